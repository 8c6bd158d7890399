"""WORK: cases, queues, SLA, the case timeline and its evidence."""
