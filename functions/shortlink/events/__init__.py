"""Link events (link.created, ... link.milestone): read from the links table's stream, sent to EventBridge."""
