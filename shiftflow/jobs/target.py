"""Which Redshift the Data API calls go to: a provisioned cluster, a Serverless workgroup, or a secret."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RedshiftTarget:
    database: str
    cluster_identifier: str = ""
    db_user: str = ""
    workgroup_name: str = ""
    secret_arn: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> RedshiftTarget:
        """The target the template configures through the functions' environment."""
        target = cls(
            database=environ.get("REDSHIFT_DATABASE", ""),
            cluster_identifier=environ.get("REDSHIFT_CLUSTER_ID", ""),
            db_user=environ.get("REDSHIFT_DB_USER", ""),
            workgroup_name=environ.get("REDSHIFT_WORKGROUP", ""),
            secret_arn=environ.get("REDSHIFT_SECRET_ARN", ""),
        )
        target.check()
        return target

    def check(self) -> None:
        """Raise ValueError unless exactly one target is configured with the credentials it needs."""
        if not self.database:
            raise ValueError("REDSHIFT_DATABASE is not set: the Data API needs a database name")
        if bool(self.cluster_identifier) == bool(self.workgroup_name):
            raise ValueError("set exactly one of REDSHIFT_CLUSTER_ID (provisioned) and REDSHIFT_WORKGROUP (Serverless)")
        if self.cluster_identifier and not (self.db_user or self.secret_arn):
            raise ValueError("a provisioned cluster needs REDSHIFT_DB_USER (temporary credentials) or REDSHIFT_SECRET_ARN")

    def request_fields(self) -> dict[str, str]:
        """The connection fields of an ExecuteStatement / BatchExecuteStatement request."""
        fields = {"Database": self.database}
        if self.cluster_identifier:
            fields["ClusterIdentifier"] = self.cluster_identifier
        else:
            fields["WorkgroupName"] = self.workgroup_name
        if self.secret_arn:
            fields["SecretArn"] = self.secret_arn
        elif self.db_user:
            fields["DbUser"] = self.db_user
        return fields
