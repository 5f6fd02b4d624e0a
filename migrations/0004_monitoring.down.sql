DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE alerts;
DROP TABLE monitoring_settings;
DROP TABLE probe_rollups;
DROP TABLE probe_results;
DROP TABLE probe_endpoints;
DROP TABLE environments;
