"""A deployment's resources, found from its stack outputs: the same names locally and on AWS."""

from __future__ import annotations

from dataclasses import dataclass


class DeploymentError(LookupError):
    """The deployment lacks what was asked for; the message says what exists."""


def output_key(state_machine: str) -> str:
    """`sales_data_pipeline` (the ASL file's stem) -> `SalesDataPipelineStateMachineArn` (the stack output)."""
    return "".join(part.capitalize() for part in state_machine.split("_")) + "StateMachineArn"


@dataclass(frozen=True)
class Deployment:
    outputs: dict[str, str]

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise DeploymentError(f"the deployment has no output {key!r}: deploy the current template.yaml") from None

    def state_machine_names(self) -> list[str]:
        names = []
        for key in self.outputs:
            if key.endswith("StateMachineArn"):
                stem = key.removesuffix("StateMachineArn")
                names.append("".join(f"_{c.lower()}" if c.isupper() else c for c in stem).lstrip("_"))
        return sorted(names)

    def state_machine_arn(self, name: str) -> str:
        """The ARN of a state machine by its short name (`sales_data_pipeline`), or an ARN given as is."""
        if name.startswith("arn:"):
            return name
        key = output_key(name)
        if key not in self.outputs:
            known = ", ".join(self.state_machine_names()) or "none"
            raise DeploymentError(f"no state machine named {name!r}; this deployment has: {known}")
        return self.outputs[key]
