# The Container Apps environment (in the VNet) and one app per role, all
# running the one image with the role's command, as in compose/compose.yaml.
# Every app mounts its secrets (Key Vault references through the identity)
# as files under /secrets: `nkey` is the role's broker seed.

resource "azurerm_container_app_environment" "main" {
  name                           = "cae-${local.name}"
  location                       = azurerm_resource_group.main.location
  resource_group_name            = azurerm_resource_group.main.name
  log_analytics_workspace_id     = azurerm_log_analytics_workspace.main.id
  infrastructure_subnet_id       = azurerm_subnet.apps.id
  internal_load_balancer_enabled = var.enable_private_endpoints
  tags                           = local.tags

  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

locals {
  nats_url = join(",", [for i in range(var.nats_replicas) : "nats://nats-${i}:4222"])

  # Variables by what reads them (`switchboard config vars`); each app takes
  # the sets of its kind in app_env. workers/tests/terraform.rs checks every
  # name against the command of the app that sets it.
  env_common = {
    NATS_URL                 = local.nats_url
    SWITCHBOARD_NATS_NKEY    = "/secrets/nkey"
    SWITCHBOARD_METRICS_ADDR = "0.0.0.0:${local.metrics_port}"
    SWITCHBOARD_LOG_FORMAT   = "json"
  }
  env_remote = {
    SWITCHBOARD_REMOTE_AGENTS = join(",", var.remote_agents)
    AZURE_OPENAI_ENDPOINT     = var.azure_openai_endpoint
    AZURE_OPENAI_DEPLOYMENT   = var.azure_openai_deployment
  }
  # Entra ID through the apps' identity (the account has no keys).
  env_store = {
    COSMOS_ENDPOINT = azurerm_cosmosdb_account.main.endpoint
    COSMOS_DATABASE = azurerm_cosmosdb_sql_database.main.name
    AZURE_CLIENT_ID = azurerm_user_assigned_identity.apps.client_id
  }
  env_gateway = {
    SWITCHBOARD_GATEWAY_ADDR = "0.0.0.0:${local.gateway_port}"
  }
  env_broker = {
    NATS_URL              = local.nats_url
    SWITCHBOARD_NATS_NKEY = "/secrets/nkey"
    SWITCHBOARD_REPLICAS  = tostring(var.nats_replicas)
  }
  app_env = {
    agent     = merge(local.env_common, var.enable_multi_language ? local.env_remote : {})
    projector = merge(local.env_common, local.env_store)
    gateway   = merge(local.env_common, local.env_store, local.env_gateway)
    streams   = local.env_broker
  }

  # Secret variables: name => container app secret.
  secret_env_common = { SWITCHBOARD_PRIVACY_KEY = "privacy-key" }
  secret_env_remote = { AZURE_OPENAI_API_KEY = "azure-openai-api-key" }
  app_secret_env = {
    agent     = merge(local.secret_env_common, var.enable_multi_language ? local.secret_env_remote : {})
    projector = local.secret_env_common
    gateway   = local.secret_env_common
  }

  # Container app secrets of every role: its nkey and the shared keys.
  shared_secrets = ["privacy-key", "azure-openai-api-key"]

  # Each role's command (after the image's `switchboard`) and kind.
  role_args = {
    critic     = ["worker", "critic"]
    intent     = ["worker", "intent"]
    knowledge  = ["worker", "knowledge"]
    response   = ["worker", "response"]
    escalation = ["worker", "escalation"]
    projector  = ["projector"]
    gateway    = ["gateway"]
  }
  role_kind = {
    critic     = "agent"
    intent     = "agent"
    knowledge  = "agent"
    response   = "agent"
    escalation = "agent"
    projector  = "projector"
    gateway    = "gateway"
  }

  # Agents scale on their consumer's lag (and business hours) from zero;
  # the projector reads with an ordered consumer from its checkpoint, one
  # writer, so exactly one replica (no durable consumer for KEDA to read);
  # the gateway scales on concurrent requests.
  kind_scale = {
    agent     = { min = 0, max = var.agent_max_replicas }
    projector = { min = 1, max = 1 }
    gateway   = { min = var.gateway_min_replicas, max = 5 }
  }
}

resource "azurerm_container_app" "role" {
  for_each                     = var.deploy_containers ? local.role_args : {}
  name                         = each.key
  container_app_environment_id = azurerm_container_app_environment.main.id
  resource_group_name          = azurerm_resource_group.main.name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  tags                         = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.apps.id]
  }

  registry {
    server   = azurerm_container_registry.main.login_server
    identity = azurerm_user_assigned_identity.apps.id
  }

  secret {
    name                = "nkey"
    key_vault_secret_id = azurerm_key_vault_secret.main["nkey-${each.key}"].versionless_id
    identity            = azurerm_user_assigned_identity.apps.id
  }

  dynamic "secret" {
    for_each = toset(local.shared_secrets)
    content {
      name                = secret.key
      key_vault_secret_id = azurerm_key_vault_secret.main[secret.key].versionless_id
      identity            = azurerm_user_assigned_identity.apps.id
    }
  }

  secret {
    name  = "appinsights-connection-string"
    value = azurerm_application_insights.main.connection_string
  }

  # The gateway's HTTP ingress, on SWITCHBOARD_GATEWAY_ADDR's port.
  dynamic "ingress" {
    for_each = each.key == "gateway" ? [local.gateway_port] : []
    content {
      external_enabled = !var.enable_private_endpoints
      target_port      = ingress.value
      transport        = "http"

      traffic_weight {
        latest_revision = true
        percentage      = 100
      }
    }
  }

  template {
    min_replicas = local.kind_scale[local.role_kind[each.key]].min
    max_replicas = local.kind_scale[local.role_kind[each.key]].max

    # An agent keeps one replica in business hours (which also creates its
    # durable consumer on a first deployment) ...
    dynamic "custom_scale_rule" {
      for_each = local.role_kind[each.key] == "agent" ? ["business-hours"] : []
      content {
        name             = custom_scale_rule.value
        custom_rule_type = "cron"
        metadata = {
          timezone        = var.business_hours.timezone
          start           = var.business_hours.start
          end             = var.business_hours.end
          desiredReplicas = "1"
        }
      }
    }

    # ... and otherwise runs only while its consumer has pending messages.
    dynamic "custom_scale_rule" {
      for_each = local.role_kind[each.key] == "agent" ? ["jetstream-lag"] : []
      content {
        name             = custom_scale_rule.value
        custom_rule_type = "nats-jetstream"
        metadata = {
          natsServerMonitoringEndpoint = "nats-0:8222"
          account                      = "$G"
          stream                       = local.stream
          consumer                     = "agent-${each.key}"
          lagThreshold                 = tostring(var.lag_threshold)
          useHttps                     = "false"
        }
      }
    }

    dynamic "http_scale_rule" {
      for_each = each.key == "gateway" ? ["http-concurrency"] : []
      content {
        name                = http_scale_rule.value
        concurrent_requests = "50"
      }
    }

    volume {
      name         = "secrets"
      storage_type = "Secret"
    }

    container {
      name    = "switchboard"
      image   = local.image
      command = ["switchboard"]
      args    = local.role_args[each.key]
      cpu     = 0.5
      memory  = "1Gi"

      dynamic "env" {
        for_each = local.app_env[local.role_kind[each.key]]
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.app_secret_env[local.role_kind[each.key]]
        content {
          name        = env.key
          secret_name = env.value
        }
      }

      volume_mounts {
        name = "secrets"
        path = "/secrets"
      }

      # The projector may replay a long log before it is ready; /healthz
      # answers from the start.
      startup_probe {
        transport               = "HTTP"
        port                    = local.metrics_port
        path                    = "/healthz"
        interval_seconds        = 5
        failure_count_threshold = 30
      }

      liveness_probe {
        transport               = "HTTP"
        port                    = local.metrics_port
        path                    = "/healthz"
        interval_seconds        = 10
        failure_count_threshold = 3
      }

      readiness_probe {
        transport               = "HTTP"
        port                    = local.metrics_port
        path                    = "/readyz"
        interval_seconds        = 10
        failure_count_threshold = 3
      }
    }

    container {
      name   = "metrics"
      image  = var.otel_collector_image
      args   = ["--config=env:OTEL_CONFIG"]
      cpu    = 0.25
      memory = "0.5Gi"

      env {
        name  = "OTEL_CONFIG"
        value = local.otel_config
      }

      env {
        name        = "APPLICATIONINSIGHTS_CONNECTION_STRING"
        secret_name = "appinsights-connection-string"
      }
    }
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }

  depends_on = [
    azurerm_role_assignment.acr_pull,
    azurerm_role_assignment.secrets_user,
    azurerm_cosmosdb_sql_role_assignment.apps,
  ]
}
