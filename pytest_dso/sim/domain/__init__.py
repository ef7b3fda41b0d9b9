"""The DSO-LV domain model of the embedded simulator, free of I/O and of pytest.

- :mod:`.activiteiten`: the aansluitactiviteiten per type of bevoegd gezag (PRE and PROD);
- :mod:`.routing`: behandeldienstconfiguraties, routing to exactly one behandeldienst, lint;
- :mod:`.mandates`: which client OIN may act for which bevoegd gezag or behandeldienst;
- :mod:`.submission`: indienen (split per bevoegd gezag, routing, triggers, kopieberichten),
  aanvulling and intrekking.
"""
