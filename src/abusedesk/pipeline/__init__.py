"""The pipeline: the layer above the steps that wires them together.

ingest.py    files and request bodies -> events (events/) -> lake, registry, reports intake
             (cases/report_intake.py) in one transaction per batch -> the batch's consumers
signals.py   detection verdicts -> signals and cases (cases/services.py), one transaction a batch;
             used by ingest, by replay and by the decision API's background writer
replay.py    the lake's events through detection again (`abusedesk detect`)
backtest.py  a rule pack over the lake's history, with case outcomes for precision

The steps below (events, lake, detection, cases) never import this package or each other
upwards; tests/test_layers.py checks it.
"""
