import functools
import json
from importlib import resources

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/* from the current output instead of comparing (review the diff!)",
    )


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


#: command -> its schema in archcalc/data/output.schema.json ($defs)
JSON_SCHEMA_OF = {"table": "report", "layer": "layer", "compare": "comparison", "check": "check", "lecture": "lecture",
                  "sweep": "sweep", "bench": "bench"}


@functools.lru_cache(maxsize=None)
def json_validator(kind: str):
    """A validator for one command's JSON, from the schema file the package ships."""
    import jsonschema

    schema = json.loads((resources.files("archcalc") / "data" / "output.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{kind}"})


@pytest.fixture
def cli_json(capsys):
    """Run `archcalc ARGS --format json` and return the parsed output, validated against the
    published JSON Schema. Every test that reads the CLI's JSON goes through this."""
    from archcalc.cli import main

    def run(args, status=0):
        assert main([*args, "--format", "json"]) == status
        data = json.loads(capsys.readouterr().out)
        errors = sorted(json_validator(JSON_SCHEMA_OF[args[0]]).iter_errors(data), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:10])
        return data

    return run
