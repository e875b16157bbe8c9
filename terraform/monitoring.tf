# Logs, metrics, the budget and the workbook.

resource "azurerm_log_analytics_workspace" "main" {
  name                = "log-${local.name}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

resource "azurerm_application_insights" "main" {
  name                = "appi-${local.name}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  workspace_id        = azurerm_log_analytics_workspace.main.id
  application_type    = "other"
  tags                = local.tags

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

# Budget on the resource group: mails at 83 % and 93 % of actual spend, and
# at 100 % of the forecast.
resource "azurerm_consumption_budget_resource_group" "main" {
  name              = "budget-${local.name}"
  resource_group_id = azurerm_resource_group.main.id
  amount            = var.monthly_budget
  time_grain        = "Monthly"

  time_period {
    start_date = var.budget_start_date
  }

  notification {
    enabled        = true
    threshold      = 83
    operator       = "GreaterThanOrEqualTo"
    threshold_type = "Actual"
    contact_emails = var.budget_contact_emails
  }

  notification {
    enabled        = true
    threshold      = 93
    operator       = "GreaterThanOrEqualTo"
    threshold_type = "Actual"
    contact_emails = var.budget_contact_emails
  }

  notification {
    enabled        = true
    threshold      = 100
    operator       = "GreaterThanOrEqualTo"
    threshold_type = "Forecasted"
    contact_emails = var.budget_contact_emails
  }

  lifecycle {
    ignore_changes = [time_period]
  }
}

# The metrics sidecar of every switchboard app: scrapes the role's own
# /metrics on localhost and sends it to Application Insights (customMetrics),
# where the workbook reads it.
locals {
  otel_config = yamlencode({
    receivers = {
      prometheus = {
        config = {
          scrape_configs = [{
            job_name        = "switchboard"
            scrape_interval = "15s"
            static_configs  = [{ targets = ["127.0.0.1:${local.metrics_port}"] }]
          }]
        }
      }
    }
    processors = { batch = {} }
    exporters = {
      azuremonitor = { connection_string = "$${env:APPLICATIONINSIGHTS_CONNECTION_STRING}" }
    }
    service = {
      pipelines = {
        metrics = { receivers = ["prometheus"], processors = ["batch"], exporters = ["azuremonitor"] }
      }
    }
  })

  # The figures of compose/grafana/dashboards/switchboard.json, over the
  # scraped metrics. The exporter keeps a histogram's count, sum and max
  # but not its buckets, so latency is mean and max per step instead of p99.
  workbook_panels = [
    {
      title = "Throughput per step"
      query = "customMetrics | where name == 'switchboard_step_seconds_count' | extend step = tostring(customDimensions.step) | summarize steps = max(value) by step, cloud_RoleInstance, bin(timestamp, 1m) | summarize steps = sum(steps) by step, timestamp | order by timestamp asc | serialize | extend per_minute = steps - prev(steps, 1, steps) | render timechart"
    },
    {
      title = "Step latency (mean and max, seconds)"
      query = "customMetrics | where name == 'switchboard_step_seconds' | extend step = tostring(customDimensions.step) | summarize mean = sum(valueSum) / sum(valueCount), max = max(valueMax) by step, bin(timestamp, 5m) | render timechart"
    },
    {
      title = "Consumer lag (pending messages)"
      query = "customMetrics | where name == 'switchboard_consumer_pending' | extend consumer = tostring(customDimensions.consumer) | summarize pending = max(value) by consumer, bin(timestamp, 1m) | render timechart"
    },
    {
      title = "Projection lag"
      query = "customMetrics | where name == 'switchboard_projection_lag' | extend projection = tostring(customDimensions.projection) | summarize lag = max(value) by projection, bin(timestamp, 1m) | render timechart"
    },
    {
      title = "Dead letters (15 min)"
      query = "customMetrics | where name == 'switchboard_dead_letters_total' | extend by = tostring(customDimensions.by) | summarize total = max(value) by by, bin(timestamp, 15m) | render columnchart"
    },
    {
      title = "Escalation rate"
      query = "customMetrics | where name == 'switchboard_events_appended_total' | extend type = tostring(customDimensions.type) | summarize total = max(value) by type, bin(timestamp, 5m) | summarize escalated = sumif(total, type == 'escalated'), all = sum(total) by timestamp | extend rate = escalated / all | project timestamp, rate | render timechart"
    },
    {
      title = "Remote model calls and cost"
      query = "customMetrics | where name in ('switchboard_model_calls_total', 'switchboard_model_cost_usd_total') | extend outcome = tostring(customDimensions.outcome) | summarize value = max(value) by name, outcome, bin(timestamp, 1h) | render timechart"
    },
  ]
}

resource "azurerm_application_insights_workbook" "main" {
  name                = "b0a5e1d2-5c3f-4c1e-9f43-5d0b7d6c2a10"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  display_name        = "Switchboard (${var.environment})"
  source_id           = lower(azurerm_application_insights.main.id)
  tags                = local.tags

  data_json = jsonencode({
    version = "Notebook/1.0"
    items = [for p in local.workbook_panels : {
      type = 3
      name = p.title
      content = {
        version       = "KqlItem/1.0"
        title         = p.title
        query         = p.query
        size          = 0
        timeContext   = { durationMs = 3600000 }
        queryType     = 0
        resourceType  = "microsoft.insights/components"
        visualization = "timechart"
      }
    }]
  })
}
