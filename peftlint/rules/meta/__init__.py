"""PFT9xx: what peftlint itself could not do (most are emitted by the engine)."""

# Codes the engine emits itself; their rule classes in this folder carry the documentation.
UNRESOLVED = "PFT901"
SYNTAX = "PFT902"
REMOTE_CODE = "PFT903"
UNUSED_NOQA = "PFT905"
NOT_READ = "PFT907"
NEWER_SYNTAX = "PFT908"
INTERNAL = "PFT999"
