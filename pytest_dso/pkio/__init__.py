"""PKIoverheid certificates: loading, OIN, chain, profile and validity checks, and a test PKI."""
