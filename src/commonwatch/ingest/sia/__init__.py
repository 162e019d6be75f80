"""SIA DC-09: professional alarm panels reporting to a receiving centre over TCP or UDP.

parse (framing, pure) -> service (decrypt, window, map, publish, answer) -> transport (sockets);
mapping holds the code tables, config the accounts. See README.md.
"""
