"""data_samples/ is the quick start's input: what its README promises must hold."""

from __future__ import annotations

import json


def _types(r, table: str) -> dict[str, str]:
    return {name: c["data_type"] for name, c in r.columns(table).items()}


def test_data_samples(cli, data_samples) -> None:
    r = cli("metadata_extraction", str(data_samples), "local", "demo")
    assert r.exit_code == 0, r.stderr
    rows = {t["table_name"]: (t["row_count"], t["column_count"]) for t in r.json["tables"]}
    assert rows == {
        "amazon_sales.csv": (120, 12),
        "customers_with_nulls.csv": (80, 7),
        "events.csv.gz": (500, 5),
        "inventory_semicolon.csv": (40, 5),
        "late_type_change.csv": (20000, 3),
        "orders_dates.csv": (60, 5),
        "support_tickets.csv": (30, 4),
    }
    amazon = _types(r, "amazon_sales.csv")
    assert {
        amazon[c]
        for c in ("discounted_price", "actual_price", "discount_percentage", "rating", "rating_count")
    } == {"string"}
    customers = r.columns("customers_with_nulls.csv")
    assert _types(r, "customers_with_nulls.csv") == {
        "customer_id": "int", "name": "string", "email": "string", "age": "int", "score": "double",
        "fax": "string", "is_active": "boolean"}  # fmt: skip
    assert customers["fax"]["null_count"] == 80
    assert customers["fax"]["is_nullable"] is True
    assert json.loads(customers["fax"]["sample_values"]) == []
    assert customers["email"]["null_count"] == 16
    assert customers["customer_id"]["is_nullable"] is False
    assert _types(r, "late_type_change.csv") == {"row_id": "int", "reading": "string", "day": "date"}
    dates = r.columns("orders_dates.csv")
    assert [(c["data_type"], c["date_format"]) for c in dates.values()] == [
        ("string", None), ("date", "yyyy-MM-dd"), ("date", "d/M/yyyy"), ("string", None), ("timestamp", "yyyy-MM-dd")]  # fmt: skip
    tickets = r.columns("support_tickets.csv")
    assert any("\n" in v for v in json.loads(tickets["body"]["sample_values"]))
    assert r.table("events.csv.gz")["compression"] == "gzip"
    assert _types(r, "events.csv.gz")["occurred_at"] == "timestamp"
    inv = r.columns("inventory_semicolon.csv")
    assert (inv["unit_price_eur"]["data_type"], inv["last_count"]["date_format"]) == ("string", "d.M.yyyy")
