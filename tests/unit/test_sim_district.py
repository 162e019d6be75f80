"""The demo district: a plausible Centro of Campo Grande, the same for the same seed."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from commonwatch.sim.district import (
    CENTER_LAT,
    CENTER_LON,
    DEVICE_KINDS,
    DISTRICT_PATH,
    KINDS,
    TIMEZONE,
    DemoDistrict,
    build_district,
)

LTREE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


@pytest.fixture(scope="module")
def district() -> DemoDistrict:
    return build_district()


def test_it_has_about_forty_communities_with_three_to_eight_buildings_each(
    district: DemoDistrict,
) -> None:
    assert 36 <= len(district.communities) <= 44
    per_community = Counter(b.community_id for b in district.buildings)
    assert set(per_community) == {c.id for c in district.communities}
    assert all(3 <= n <= 8 for n in per_community.values())


def test_it_has_about_two_thousand_devices_with_unique_ascii_ids(district: DemoDistrict) -> None:
    ids = [d.id for d in district.devices]
    assert 1800 <= len(ids) <= 2200
    assert len(set(ids)) == len(ids)
    assert all(DEVICE_ID.match(i) for i in ids)
    assert "c07-b2-smoke-1" in ids


def test_it_uses_every_device_kind_of_the_kit_and_no_other(district: DemoDistrict) -> None:
    assert {d.kind for d in district.devices} == KINDS == {k.kind for k in DEVICE_KINDS}


def test_it_places_everything_on_valid_jurisdiction_paths(district: DemoDistrict) -> None:
    communities = {c.id: c for c in district.communities}
    buildings = {b.id: b for b in district.buildings}
    for community in district.communities:
        assert LTREE.match(community.jpath)
        assert community.jpath.rsplit(".", 1)[0] == DISTRICT_PATH == "campo_grande.centro"
    for building in district.buildings:
        assert LTREE.match(building.jpath)
        assert building.jpath.rsplit(".", 1)[0] == communities[building.community_id].jpath
    for device in district.devices:
        assert device.building_id is not None
        assert device.jpath == buildings[device.building_id].jpath


def test_it_puts_every_device_in_a_building_of_its_own_community(district: DemoDistrict) -> None:
    buildings = {b.id: b for b in district.buildings}
    for device in district.devices:
        assert device.building_id in buildings
        assert buildings[device.building_id].community_id == device.community_id


def test_it_gives_every_building_two_smoke_detectors_and_a_heat_detector(
    district: DemoDistrict,
) -> None:
    kinds = Counter((d.building_id, d.kind) for d in district.devices)
    for building in district.buildings:
        assert kinds[(building.id, "smoke_detector")] >= 2
        assert kinds[(building.id, "heat_detector")] >= 1


def test_it_lays_communities_out_around_the_centre_of_campo_grande(
    district: DemoDistrict,
) -> None:
    for community in district.communities:
        assert community.lat is not None and community.lon is not None
        assert abs(community.lat - CENTER_LAT) < 0.02
        assert abs(community.lon - CENTER_LON) < 0.03
        ring = community.polygon
        assert ring is not None and len(ring) >= 4 and ring[0] == ring[-1]
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        assert min(lons) < community.lon < max(lons)
        assert min(lats) < community.lat < max(lats)


def test_it_lists_parents_before_children_in_the_jurisdiction_tree(
    district: DemoDistrict,
) -> None:
    seen: set[str] = set()
    for place in district.jurisdictions:
        parent = place.path.rpartition(".")[0]
        assert parent == "" or parent in seen
        assert place.timezone == TIMEZONE
        seen.add(place.path)
    kinds = Counter(p.kind for p in district.jurisdictions)
    assert kinds == {
        "city": 1,
        "district": 1,
        "community": len(district.communities),
        "building": len(district.buildings),
    }
    assert district.jurisdictions[0].name == "Campo Grande"
    assert district.jurisdictions[1].name == "Centro"


def test_it_is_the_same_district_for_the_same_seed() -> None:
    assert build_district(7) == build_district(7)
    assert build_district(7) != build_district(8)
