"""Network checks: DNS, TCP reachability, the TLS probe and the IP whitelist.

- ``endpoint``: host and port values (``Endpoint``).
- ``dns`` / ``tcp``: resolution with a timeout, ingress drift; connect with distinct failures.
- ``handshake`` / ``tlsprobe`` / ``tlscheck``: one TLS handshake; a probe of versions, suites,
  the sent chain and the verified mutual-TLS handshake; findings for that probe.
- ``ciphers``: cipher suite ratings (our reading of the NCSC TLS guidelines, overridable).
- ``chain`` / ``showcerts``: completeness of the chain a server sends, and how it is read.
- ``whitelist``: the adapter's allow list, ingress reach, the source address of DSO messages.
- ``partners``: which endpoints the TLS suite probes.
"""
