"""Visit statistics: aggregated off the hot path from the links table's stream."""
