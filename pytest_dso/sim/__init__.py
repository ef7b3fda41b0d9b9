"""The embedded DSO-LV simulator: REST APIs, an ebMS MSH, reliable verzoeknotificaties and
fault injection. Start it with :class:`pytest_dso.sim.server.Simulator` or ``dso-sim serve``;
see ``docs/simulator.md``."""
