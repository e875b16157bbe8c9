# Switchboard on Azure: the shape of compose/compose.yaml. One image, one
# container app per role (each agent, the projector, the gateway), NATS
# JetStream with persistent storage and a user per role, Cosmos DB for the
# projections, Key Vault for the secrets, one user-assigned identity.

data "azurerm_client_config" "current" {}

locals {
  name   = "${var.project_name}-${var.environment}"
  flat   = "${var.project_name}${var.environment}"
  suffix = substr(sha1("${data.azurerm_client_config.current.subscription_id}/${local.name}"), 0, 6)

  tags = merge(var.tags, {
    project     = var.project_name
    environment = var.environment
    managed_by  = "terraform"
  })

  # The five agents (engine workflow::Agent) and their durable consumers on
  # the CONVERSATIONS stream (workers/src/runtime: "<prefix>-<agent>",
  # prefix "agent").
  agents = ["critic", "intent", "knowledge", "response", "escalation"]
  stream = "CONVERSATIONS"

  # Every long-running role serves /metrics, /healthz and /readyz here.
  metrics_port = 9464
  gateway_port = 8080

  image = "${azurerm_container_registry.main.login_server}/switchboard:${var.image_tag}"

  # Generous create/delete timeouts: environments and Cosmos DB accounts
  # routinely take 10-20 minutes.
  timeout = "30m"
}

resource "azurerm_resource_group" "main" {
  name     = "rg-${local.name}"
  location = var.location
  tags     = local.tags

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}
