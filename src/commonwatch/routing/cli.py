"""`commonwatch network import FILE.osm.pbf`: build the road network travel times come from.

Only the parser lives here; the command is in `commands.py`, imported when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from commonwatch.runtime.lazy import lazy


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    network = sub.add_parser("network", help="road networks for travel times")
    network_sub = network.add_subparsers(dest="network", required=True)
    imp = network_sub.add_parser("import", help="import an OpenStreetMap extract (.osm.pbf)")
    imp.add_argument("file", type=Path, help="OSM file (.osm.pbf or .osm)")
    imp.add_argument("--data-dir", type=Path, help="data directory (default: the platform's)")
    imp.add_argument("--name", help="network name (default: from the file name)")
    imp.set_defaults(func=lazy("commonwatch.routing.commands:cmd_import"))
