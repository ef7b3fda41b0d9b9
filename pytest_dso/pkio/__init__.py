"""PKIoverheid certificates: loading, OIN, chain, profile and validity checks, and a test PKI.

Modules: ``load`` (PEM, PKCS#12, passphrases, CA bundles), ``oin`` (OIN parsing and check),
``chain`` (path building and the PKIoverheid root policy), ``profile`` (key usage, EKU, key,
signature, SAN), ``validity``, ``checks`` (all of them under one ``CertificatePolicy``),
``identity`` (certificate + chain + key as TLS contexts) and ``testpki`` (our own test CA).
"""
