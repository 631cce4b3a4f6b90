"""Root conftest: fixtures live in tests/fixtures/ as plugins, one module per area."""

pytest_plugins = [
    "tests.fixtures.aws",
    "tests.fixtures.emulator",
    "tests.fixtures.stack",
    "tests.fixtures.iam",
]
