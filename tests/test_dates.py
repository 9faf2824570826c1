import pytest

from ingest.dates import find_publication_date, parse_date


@pytest.mark.parametrize("text, iso, precision", [
    (" date 2019-08 Hamburg. Der Senator reist.", "2019-08", "month"),
    ("Hamburger Cluster\n\nNeuer Bericht\n17. September 2020\nDer Bericht ist da.", "2020-09-17", "day"),
    ("Ein Bericht über die Reise.\nBerliner Wirtschaft 12 | 2024", "2024-12", "month"),
    ("Titel\n17.09.2020\nText", "2020-09-17", "day"),
])
def test_publication_dates_from_the_samples_formats(text, iso, precision):
    date, _ = find_publication_date(text)
    assert (date.iso, date.precision) == (iso, precision)


def test_date_label_is_removed_from_the_text_but_the_text_is_kept():
    date, text = find_publication_date(" date 2019-08 Hamburg. Der Senator reist.")
    assert text == "Hamburg. Der Senator reist."


def test_event_dates_in_the_body_are_not_publication_dates():
    date, _ = find_publication_date("Die Delegation reiste.\nVom 25. bis zum 28. November 2019 war die Messe. " * 3)
    assert date is None


def test_metadata_dates_and_month_ranges():
    assert parse_date("2005-08-20").iso == "2005-08-20"
    assert parse_date("September 17, 2020").iso == "2020-09-17"
    d = parse_date("2019-08")
    assert (d.first_day, d.last_day) == (20190801, 20190831)
