"""Gap 11 (shiftflow.local.moto_gaps.deferred_batch_models): the interpreter loads without EC2's models."""

from __future__ import annotations


def test_gap_11_the_interpreter_loads_without_ec2_and_a_mocked_batch_still_works():
    """In a fresh interpreter: importing the patches (and the ASL interpreter) leaves EC2's models unloaded,
    and moto's Batch backend, asked for afterwards, still loads and answers."""
    import subprocess
    import sys

    code = (
        "import sys, boto3\n"
        "import shiftflow.local.moto_gaps\n"
        "import moto.stepfunctions.parser.backend.execution\n"
        "assert 'moto.ec2.models' not in sys.modules, 'EC2 models imported'\n"
        "import moto.batch\n"
        "assert moto.batch.batch_backends is not None\n"
        "from moto import mock_aws\n"
        "with mock_aws():\n"
        "    queues = boto3.client('batch', region_name='us-east-1').describe_job_queues()['jobQueues']\n"
        "assert queues == [] and 'moto.ec2.models' in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
