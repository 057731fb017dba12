"""PFT9xx: what peftlint itself could not do (most are emitted by the engine)."""

from peftlint.codes import Code

# Codes the engine emits itself; their rule classes in this folder carry the documentation.
UNRESOLVED = Code.UNRESOLVED_MODEL
SYNTAX = Code.SYNTAX_ERROR
REMOTE_CODE = Code.REMOTE_CODE_REQUIRED
UNUSED_NOQA = Code.UNUSED_SUPPRESSION
NOT_READ = Code.FILE_NOT_READ
NEWER_SYNTAX = Code.NEWER_SYNTAX
INTERNAL = Code.INTERNAL_ERROR
