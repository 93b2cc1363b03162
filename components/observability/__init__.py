"""Observability: the cluster's monitoring stack and each domain's part of it."""

from components.observability.domain_monitoring import DomainMonitoring, DomainMonitoringArgs
from components.observability.monitoring import Monitoring, MonitoringArgs

__all__ = ["DomainMonitoring", "DomainMonitoringArgs", "Monitoring", "MonitoringArgs"]
