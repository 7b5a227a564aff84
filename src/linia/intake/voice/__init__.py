"""Voice: CTI events from a PBX (HTTP API, Asterisk AMI, queue_log import) become calls and interactions."""
