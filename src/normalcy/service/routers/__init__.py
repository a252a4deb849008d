"""One router per resource: units (with readings), alarms, users, system, pages."""
