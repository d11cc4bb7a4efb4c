#!/bin/sh
# Stands in for the reporter in robust-final-report-timeout: a reporter
# that never finishes, which the dying program must stop waiting for.
exec sleep 60
