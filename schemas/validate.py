"""One validation used by every writer: cast a table to a contract schema."""
import pyarrow as pa


class SchemaError(ValueError):
    pass


def validate(table: pa.Table, schema: pa.Schema, allow_extra: bool = True) -> pa.Table:
    """Return `table` with the contract columns first, in order, cast to their types.

    Missing nullable columns are added as nulls; a missing non-nullable column, a null in
    one, or a value that cannot be cast raises SchemaError naming the column. Extra columns
    (operator signals) are kept after the contract ones unless `allow_extra` is False.
    """
    columns, fields = [], []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise SchemaError(f"column {field.name!r}: cannot cast {column.type} to {field.type}: {exc}") from exc
            if not field.nullable and column.null_count:
                raise SchemaError(f"column {field.name!r}: {column.null_count} null value(s) in a non-nullable column")
        elif field.nullable:
            column = pa.nulls(table.num_rows, field.type)
        else:
            raise SchemaError(f"column {field.name!r} is missing")
        columns.append(column)
        fields.append(field)
    extra = [name for name in table.column_names if schema.get_field_index(name) < 0]
    if extra and not allow_extra:
        raise SchemaError(f"unexpected column(s): {', '.join(extra)}")
    for name in extra:
        columns.append(table.column(name))
        fields.append(table.schema.field(name))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
