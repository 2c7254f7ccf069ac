"""A scenario that fails on its own (its marker never comes), run by scenario `hil_fake_bench`
to show that a test's failure is not retried: one boot, one power-up. Not collected by the
suite (its name is no test_*.py)."""


def test_a_marker_that_never_comes(boot):
    s = boot("bare-metal")
    s.wait_all(r"^\[alpha\] HIL:HEARTBEAT 1$", timeout=10)
    s.expect(r"^\[alpha\] HIL:TEST never-printed PASS$", timeout=2)
