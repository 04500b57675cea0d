"""FlowCompile: an optimizing compiler for structured LLM workflows."""

from importlib.metadata import PackageNotFoundError, version


def installed_version(distribution: str = "flowcompile") -> str:
    """The installed version of `distribution` ("unknown" when it is not installed):
    what provenance records name the tools by."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"
