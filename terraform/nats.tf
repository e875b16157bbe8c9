# NATS JetStream: one container app per node (nats-0 .. nats-N), each with
# its own Azure Files share for the store, running the nats-server that the
# switchboard image ships with the configuration `switchboard streams
# broker-config` generates (a user per role), kept in Key Vault. With three
# nodes they form a JetStream cluster over their routes.
#
# azapi, because the nodes need three ports on their internal TCP ingress:
# clients (4222), cluster routes (6222) and the monitoring endpoint (8222)
# the KEDA nats-jetstream scale rules read.

resource "azurerm_container_app_environment_storage" "nats" {
  count                        = var.nats_replicas
  name                         = "nats-${count.index}"
  container_app_environment_id = azurerm_container_app_environment.main.id
  account_name                 = azurerm_storage_account.nats.name
  share_name                   = azurerm_storage_share.nats[count.index].name
  access_key                   = azurerm_storage_account.nats.primary_access_key
  access_mode                  = "ReadWrite"
}

locals {
  nats_routes       = join(",", [for i in range(var.nats_replicas) : "nats://nats-${i}:6222"])
  nats_cluster_args = var.nats_replicas > 1 ? "--cluster_name switchboard --cluster nats://0.0.0.0:6222 --routes ${local.nats_routes}" : ""
}

resource "azapi_resource" "nats" {
  count     = var.deploy_containers ? var.nats_replicas : 0
  type      = "Microsoft.App/containerApps@2024-03-01"
  name      = "nats-${count.index}"
  parent_id = azurerm_resource_group.main.id
  location  = azurerm_resource_group.main.location
  tags      = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.apps.id]
  }

  body = {
    properties = {
      environmentId       = azurerm_container_app_environment.main.id
      workloadProfileName = "Consumption"
      configuration = {
        activeRevisionsMode = "Single"
        registries = [{
          server   = azurerm_container_registry.main.login_server
          identity = azurerm_user_assigned_identity.apps.id
        }]
        secrets = [{
          name        = "nats-server-conf"
          keyVaultUrl = azurerm_key_vault_secret.main["nats-server-conf"].versionless_id
          identity    = azurerm_user_assigned_identity.apps.id
        }]
        ingress = {
          external    = false
          transport   = "tcp"
          targetPort  = 4222
          exposedPort = 4222
          additionalPortMappings = [
            { external = false, targetPort = 6222, exposedPort = 6222 },
            { external = false, targetPort = 8222, exposedPort = 8222 },
          ]
        }
      }
      template = {
        scale = { minReplicas = 1, maxReplicas = 1 }
        volumes = [
          { name = "data", storageType = "AzureFile", storageName = azurerm_container_app_environment_storage.nats[count.index].name, mountOptions = "uid=10001,gid=10001,nobrl" },
          { name = "secrets", storageType = "Secret" },
        ]
        containers = [{
          name    = "nats"
          image   = local.image
          command = ["/bin/sh", "-c"]
          args = [
            "exec nats-server --config /secrets/nats-server-conf --server_name nats-${count.index} --store_dir /data/jetstream --http_port 8222 ${local.nats_cluster_args}",
          ]
          resources = { cpu = 1, memory = "2Gi" }
          volumeMounts = [
            { volumeName = "data", mountPath = "/data" },
            { volumeName = "secrets", mountPath = "/secrets" },
          ]
          probes = [
            { type = "Liveness", tcpSocket = { port = 4222 }, periodSeconds = 10, failureThreshold = 3 },
            { type = "Readiness", httpGet = { port = 8222, path = "/healthz?js-enabled-only=true" }, periodSeconds = 10, failureThreshold = 3 },
          ]
        }]
      }
    }
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }

  depends_on = [azurerm_role_assignment.acr_pull, azurerm_role_assignment.secrets_user]
}

# `switchboard streams apply` as the operator: creates or updates the
# streams (replicated over the nodes when nats_replicas is 3). Started by
# the deployment workflow after every apply, like compose's `streams`.
resource "azurerm_container_app_job" "streams" {
  count                        = var.deploy_containers ? 1 : 0
  name                         = "streams-apply"
  location                     = azurerm_resource_group.main.location
  resource_group_name          = azurerm_resource_group.main.name
  container_app_environment_id = azurerm_container_app_environment.main.id
  workload_profile_name        = "Consumption"
  replica_timeout_in_seconds   = 600
  replica_retry_limit          = 3
  tags                         = local.tags

  manual_trigger_config {
    parallelism              = 1
    replica_completion_count = 1
  }

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
    key_vault_secret_id = azurerm_key_vault_secret.main["nkey-operator"].versionless_id
    identity            = azurerm_user_assigned_identity.apps.id
  }

  template {
    volume {
      name         = "secrets"
      storage_type = "Secret"
    }

    container {
      name    = "switchboard"
      image   = local.image
      command = ["switchboard"]
      args    = ["streams", "apply"]
      cpu     = 0.25
      memory  = "0.5Gi"

      dynamic "env" {
        for_each = local.app_env.streams
        content {
          name  = env.key
          value = env.value
        }
      }

      volume_mounts {
        name = "secrets"
        path = "/secrets"
      }
    }
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }

  depends_on = [azapi_resource.nats]
}
