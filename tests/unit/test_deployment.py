"""Resources found by stack outputs, the same way for the local runtime and a deployed stack."""

import boto3
import pytest
from moto import mock_aws

from shiftflow.cli.connection import stack_connection
from shiftflow.deployment import Deployment, DeploymentError, output_key


def test_state_machine_names_map_to_stack_outputs():
    assert output_key("sales_data_pipeline") == "SalesDataPipelineStateMachineArn"
    deployment = Deployment({"SalesDataPipelineStateMachineArn": "arn:sm:sales", "RunSqlJobStateMachineArn": "arn:sm:r",
                             "ScriptsBucketName": "b"})
    assert deployment.state_machine_names() == ["run_sql_job", "sales_data_pipeline"]
    assert deployment.state_machine_arn("sales_data_pipeline") == "arn:sm:sales"
    assert deployment.state_machine_arn("arn:aws:states:x") == "arn:aws:states:x"
    with pytest.raises(DeploymentError, match="no state machine named 'nope'; this deployment has: run_sql_job, sales_data_pipeline"):
        deployment.state_machine_arn("nope")
    with pytest.raises(DeploymentError, match="no output 'Missing'"):
        deployment.output("Missing")


def test_a_stack_is_found_from_its_outputs_and_parameters():
    template = """
Parameters:
  DatabaseName: {Type: String, Default: dev}
  RedshiftWorkgroupName: {Type: String, Default: ""}
  RedshiftClusterIdentifier: {Type: String, Default: ""}
Resources:
  Placeholder: {Type: AWS::SNS::Topic}
Outputs:
  SalesDataPipelineStateMachineArn: {Value: arn:aws:states:us-east-1:123456789012:stateMachine:sales}
  JobGuardTableName: {Value: guard-table}
"""
    with mock_aws():
        boto3.client("cloudformation").create_stack(
            StackName="shiftflow-dev", TemplateBody=template,
            Parameters=[{"ParameterKey": "DatabaseName", "ParameterValue": "analytics"},
                        {"ParameterKey": "RedshiftWorkgroupName", "ParameterValue": "etl"}])
        connection = stack_connection("shiftflow-dev", boto3.client)
    assert connection.deployment.output("JobGuardTableName") == "guard-table"
    assert connection.deployment.state_machine_arn("sales_data_pipeline").endswith(":stateMachine:sales")
    assert connection.target.request_fields() == {"Database": "analytics", "WorkgroupName": "etl"}
    assert not connection.is_local
