"""The log's default name, which every checkpoint states (`AQP_LOG_ORIGIN` names another).

A module of its own so the settings can name it without loading the stores behind the checkpoints.
"""

DEFAULT_ORIGIN = "aqp-ledger.local/log"
