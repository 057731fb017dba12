"""The engine: discover → sources → spec → resolve → inventory → matching → rules → report/fix."""
