"""Tests of the desk: the hub on a real nats-server from the wheel, with the simulator."""
