"""The committed docs/schema.graphql is the schema we serve, and every type and root field is
described (an introspection-friendly schema)."""

import subprocess
import sys
from pathlib import Path

from graphql import GraphQLObjectType

from pancake.graphql.schema import schema

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def test_committed_schema_is_current(tmp_path):
    """Regenerate: python manage.py graphql_schema --out docs/schema.graphql"""
    out = tmp_path / "schema.graphql"
    subprocess.run(
        [sys.executable, "manage.py", "graphql_schema", "--out", str(out)],
        cwd=COMMITTED.parent.parent,
        check=True,
        capture_output=True,
    )
    assert out.read_text().strip() == COMMITTED.read_text().strip()


def test_every_type_and_root_field_has_a_description():
    gql_schema = schema.graphql_schema
    for name, gtype in gql_schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        assert gtype.description, name
    for name, field in gql_schema.query_type.fields.items():
        assert field.description, name
    for name, gtype in gql_schema.type_map.items():
        if isinstance(gtype, GraphQLObjectType) and not name.startswith("__") and name != "Query":
            for field_name, field in gtype.fields.items():
                assert field.description, f"{name}.{field_name}"


def test_there_is_no_mutation_type():
    assert schema.graphql_schema.mutation_type is None
