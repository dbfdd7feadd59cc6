"""The local runtime's reading of template.yaml: intrinsic functions resolved like CloudFormation would."""

from pathlib import Path

import pytest

from shiftflow.local.runtime import substitute, LocalRuntimeError
from shiftflow.local.template import PhysicalResource, Resolver, Template, TemplateError

TEMPLATE = """
Parameters:
  Cluster: {Type: String, Default: ""}
  Workgroup: {Type: String, Default: wg}
Conditions:
  IsCluster: !Not [!Equals [!Ref Cluster, ""]]
  IsServerless: !And [!Not [!Condition IsCluster], !Equals [!Ref Workgroup, wg]]
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Fn: {Type: AWS::Serverless::Function}
"""


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    physical = {"Bucket": PhysicalResource("local-bucket", {"Arn": "arn:aws:s3:::local-bucket"}),
                "Fn": PhysicalResource("local-fn", {"Arn": "arn:aws:lambda:us-east-1:1:function:local-fn"})}
    return Resolver(Template.load(path), {"Cluster": ""}, physical, {"AWS::Region": "us-east-1"})


def test_refs_getatts_subs_and_conditions(resolver):
    assert resolver.resolve({"Ref": "Bucket"}) == "local-bucket"
    assert resolver.resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == "arn:aws:lambda:us-east-1:1:function:local-fn"
    assert resolver.resolve({"Fn::Sub": "${Bucket.Arn}/*"}) == "arn:aws:s3:::local-bucket/*"
    assert resolver.resolve({"Fn::Sub": ["${AWS::Region}:${x}:${!Literal}", {"x": {"Ref": "Workgroup"}}]}) == "us-east-1:wg:${Literal}"
    assert resolver.resolve({"Fn::If": ["IsServerless", {"Ref": "Workgroup"}, {"Ref": "AWS::NoValue"}]}) == "wg"
    assert resolver.resolve({"A": {"Fn::If": ["IsCluster", "x", {"Ref": "AWS::NoValue"}]}, "B": 1}) == {"B": 1}
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Workgroup"}]]}) == "a-wg"


def test_unknown_references_fail_loudly(resolver):
    with pytest.raises(TemplateError, match="Ref to Nope"):
        resolver.resolve({"Ref": "Nope"})
    with pytest.raises(TemplateError, match="GetAtt Bucket.Missing"):
        resolver.resolve({"Fn::GetAtt": "Bucket.Missing"})


def test_definition_substitutions_must_cover_every_placeholder():
    assert substitute('{"A": "${One}", "B": "${Two}"}', {"One": 1, "Two": "x"}) == '{"A": "1", "B": "x"}'
    with pytest.raises(LocalRuntimeError, match="DefinitionSubstitutions lack Two"):
        substitute('{"A": "${One}", "B": "${Two}"}', {"One": 1})
