#!/usr/bin/env python3
"""Expands a SAM template into plain CloudFormation, offline, so cfn-lint can check it.

cfn-lint (1.x) checks AWS::Serverless::* resources only against SAM's own schema: it does not
see a wrong runtime in Globals, a misspelt value inside an event, or a !GetAtt to a missing
resource inside an event. After the expansion those are ordinary CloudFormation properties
(an AWS::Lambda::EventSourceMapping, a Lambda::Function, ...), which cfn-lint does check.

    AWS_DEFAULT_REGION=eu-west-1 python infra/sam2cfn.py infra/template.yaml build/cfn.json

No AWS call is made: local CodeUri paths become an s3:// placeholder (as `sam package` would
make them s3 URIs), and no managed policy is looked up (the template's roles are explicit).
The region comes from AWS_REGION or AWS_DEFAULT_REGION; the translator needs one to build ARNs.
"""

import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

PLACEHOLDER_BUCKET = "s3://sam2cfn-placeholder-bucket/"


class NoManagedPolicies:
    """The managed-policy loader the translator asks only when a generated role needs one."""

    def load(self):
        return {}


def with_s3_code(template):
    """Replaces every local CodeUri of a function with an s3:// placeholder."""
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        code = properties.get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(code, str):
            if not code.startswith("s3://"):
                name = code.strip("/").replace("../", "").replace("/", "-")
                properties["CodeUri"] = PLACEHOLDER_BUCKET + name + ".zip"
    return template


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} TEMPLATE.yaml OUT.json", file=sys.stderr)
        return 2
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
    if not region:
        print(
            "sam2cfn: set AWS_DEFAULT_REGION (or AWS_REGION): the SAM translator needs a region "
            "to build ARNs (no AWS call is made)",
            file=sys.stderr,
        )
        return 2
    os.environ["AWS_DEFAULT_REGION"] = region  # boto3, which the translator asks, reads this one
    source, target = argv[1], argv[2]
    with open(source, encoding="utf-8") as f:
        template = with_s3_code(yaml_parse(f.read()))
    try:
        expanded = transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        # The translator's own validation: report every cause, as cfn-lint would, and fail.
        for cause in e.causes:
            print(f"{source}: SAM transform: {cause.message}", file=sys.stderr)
        return 1
    directory = os.path.dirname(target)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(target, "w", encoding="utf-8") as f:
        json.dump(expanded, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
