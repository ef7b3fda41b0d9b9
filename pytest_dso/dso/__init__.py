"""REST clients of the DSO-LV APIs used by the harness (thin and configurable).

- :mod:`.paths`: default path templates per operation, each tagged [C]/[V]/[I]/[?];
- :mod:`.rest`: ``RestSession`` (mTLS per identity, exchanges recorded), ``WritesNotAllowed``;
- :mod:`.shapes`: JSON shapes shared with the simulator;
- :mod:`.afhandelen`, :mod:`.behandeldienstconfiguratie`, :mod:`.routering`,
  :mod:`.indienen`, :mod:`.cpa_aanbieden`: one client per API.
"""
