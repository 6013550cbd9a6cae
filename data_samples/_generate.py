"""Regenerate the sample files (deterministic).  Run: python data_samples/_generate.py

The leading underscore keeps this script out of every catalog (discovery skips `_`-prefixed files).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
rng = random.Random(20261126)


def write_csv(
    name: str, header: list[str], rows: list[list[object]], delimiter: str = ",", lineterminator: str = "\n"
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator)
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    (HERE / name).write_bytes(data)
    return data


def amazon_sales() -> None:
    categories = [
        "Computers&Accessories|Accessories&Peripherals|Cables&Accessories|Cables|USBCables",
        "Electronics|HomeTheater,TV&Video|Accessories|RemoteControls",
        "Electronics|Mobiles&Accessories|Smartphones&BasicMobiles|Smartphones",
        "Home&Kitchen|Kitchen&HomeAppliances|SmallKitchenAppliances|Kettles&HotWaterDispensers",
        "OfficeProducts|OfficePaperProducts|Paper|Stationery|Pens,Pencils&WritingSupplies",
    ]
    brands = [
        "Wayona",
        "Ambrane",
        "boAt",
        "Portronics",
        "pTron",
        "Sounce",
        "AmazonBasics",
        "Tizum",
        "Redmi",
        "Pigeon",
    ]
    things = ["Nylon Braided USB-A to Lightning Cable", "Unbreakable 1.5m Micro USB Cable", "Smart LED TV Remote",
              "Electric Kettle 1.5 Litre", "Gel Pen Set (Pack of 10)", "Fast Charging Type-C Cable",
              "Wireless Mouse 2.4GHz", "5G Smartphone (6GB RAM, 128GB)"]  # fmt: skip
    rows = []
    for i in range(120):
        actual = rng.choice([299, 499, 999, 1099, 1499, 1999, 4999, 12999, 19999])
        discount = rng.randint(5, 80)
        price = round(actual * (100 - discount) / 100)
        rating = round(rng.uniform(2.8, 4.8), 1)
        count = rng.randint(5, 400_000)
        pid = "B0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
        name = f"{rng.choice(brands)} {rng.choice(things)}"
        rows.append([
            pid, name, rng.choice(categories), f"₹{price:,}", f"₹{actual:,}", f"{discount}%",
            rating if i != 57 else "|",  # one broken rating, as in the public data set
            f"{count:,}", f"Compatible with most devices; {rng.choice(['durable', 'fast', 'compact', 'lightweight'])} build.",
            "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(28)),
            rng.choice(["Satisfied", "Good product", "Value for money", "Worst!", "Decent", "Okay, not great"]),
            f"https://m.media-amazon.com/images/I/{pid}.jpg",
        ])  # fmt: skip
    write_csv(
        "amazon_sales.csv",
        ["product_id", "product_name", "category", "discounted_price", "actual_price", "discount_percentage",
         "rating", "rating_count", "about_product", "user_id", "review_title", "img_link"],
        rows,
    )  # fmt: skip


def customers_with_nulls() -> None:
    nullish = ["", "NULL", "null", "None", "NA", "N/A", "NaN", "#N/A"]
    rows = []
    for i in range(1, 81):
        email = f"user{i}@example.com" if i % 5 else rng.choice(nullish)
        age = str(rng.randint(18, 90)) if i % 7 else rng.choice(nullish)
        score = f"{rng.uniform(0, 100):.2f}" if i % 4 else ""
        rows.append(
            [i, f"Customer {i}", email, age, score, "", rng.choice(["true", "false", "TRUE", "False"])]
        )
    write_csv(
        "customers_with_nulls.csv", ["customer_id", "name", "email", "age", "score", "fax", "is_active"], rows
    )


def late_type_change() -> None:
    rows = [[i, 1000 + i * 3, f"2024-03-{i % 28 + 1:02d}"] for i in range(1, 20_001)]
    rows[-1][1] = "unknown"  # the only non-integer, in the last row: the column is a string
    write_csv("late_type_change.csv", ["row_id", "reading", "day"], rows)


def orders_dates() -> None:
    rows = []
    start = dt.date(2023, 1, 1)
    for i in range(1, 61):
        d = start + dt.timedelta(days=rng.randint(0, 700))
        s = d + dt.timedelta(days=rng.randint(1, 20))
        mixed = d.isoformat() if i % 2 else d.strftime("%d/%m/%Y")
        rows.append([f"ORD-{i:05d}", d.isoformat(), s.strftime("%d/%m/%Y"), mixed,
                     f"{d.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"])  # fmt: skip
    write_csv("orders_dates.csv", ["order_id", "order_date", "ship_date", "mixed_date", "created_at"], rows)


def support_tickets() -> None:
    rows = []
    bodies = [
        'Printer says "paper jam"\nbut there is no paper in it.',
        "Line one\r\nline two, with a comma\nline three",
        "Plain single-line request",
        'He wrote: "it\'s broken, again"',
        "",
    ]
    for i in range(1, 31):
        rows.append([i, rng.choice(["open", "closed", "pending"]), rng.choice(bodies), rng.randint(1, 5)])
    write_csv("support_tickets.csv", ["ticket_id", "status", "body", "priority"], rows, lineterminator="\r\n")


def events_gzip() -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["event_id", "user_id", "event_type", "occurred_at", "value"])
    t0 = dt.datetime(2024, 6, 1, 8, 0, 0)
    for i in range(1, 501):
        ts = t0 + dt.timedelta(seconds=rng.randint(0, 30 * 86400), microseconds=rng.randint(0, 999) * 1000)
        w.writerow([i, rng.randint(1, 50), rng.choice(["click", "view", "purchase", "signup"]),
                    ts.isoformat(timespec="milliseconds") + "Z", f"{rng.uniform(0, 500):.3f}"])  # fmt: skip
    with gzip.GzipFile(HERE / "events.csv.gz", "wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode())


def inventory_semicolon() -> None:
    rows = []
    for i in range(1, 41):
        rows.append([f"SKU{i:04d}", rng.choice(["Schrauben M4", "Dübel 6mm", "Kabelbinder", "Muttern M8"]),
                     rng.randint(0, 5000), f"{rng.uniform(0.05, 20):.2f}".replace(".", ","),
                     (dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 300))).strftime("%d.%m.%Y")])  # fmt: skip
    write_csv(
        "inventory_semicolon.csv",
        ["sku", "name", "stock", "unit_price_eur", "last_count"],
        rows,
        delimiter=";",
    )


if __name__ == "__main__":
    amazon_sales()
    customers_with_nulls()
    late_type_change()
    orders_dates()
    support_tickets()
    events_gzip()
    inventory_semicolon()
