# Where things are kept: the image registry, the projections (Cosmos DB),
# the secrets (Key Vault) and NATS JetStream's files (Azure Files).

resource "azurerm_container_registry" "main" {
  #checkov:skip=CKV_AZURE_163:Image vulnerability scanning is Defender for Containers, a subscription-level plan, not a registry setting
  #checkov:skip=CKV_AZURE_164:Signed (trusted) images need Docker Content Trust signing in the pipeline, not done yet
  #checkov:skip=CKV_AZURE_165:Geo-replication doubles the registry cost; one region is within monthly_budget
  #checkov:skip=CKV_AZURE_166:Quarantine needs a scanner that releases images; none is deployed
  #checkov:skip=CKV_AZURE_233:Zone redundancy needs Premium in a zoned region; Premium only with private endpoints
  #checkov:skip=CKV_AZURE_237:Dedicated data endpoints need Premium; Premium only with private endpoints
  #checkov:skip=CKV_AZURE_167:Untagged-manifest retention is a Premium feature; Premium only with private endpoints (the workflow pushes commit tags, no untagged images)
  #checkov:skip=CKV_AZURE_139:Public access stays on unless enable_private_endpoints, so the workflow's runner can push
  name                          = "cr${local.flat}${local.suffix}"
  location                      = azurerm_resource_group.main.location
  resource_group_name           = azurerm_resource_group.main.name
  sku                           = var.enable_private_endpoints ? "Premium" : "Standard"
  admin_enabled                 = false
  public_network_access_enabled = !var.enable_private_endpoints
  tags                          = local.tags

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

# Cosmos DB, serverless. Containers and partition keys as the Cosmos
# projection store expects (engine/src/projection/cosmos/request.rs):
# `conversations` by /tenant + /conversationId (hierarchical), the rest by
# /tenant. The apps use Entra ID, so the store never creates containers.
resource "azurerm_cosmosdb_account" "main" {
  #checkov:skip=CKV_AZURE_99:Public network access is off when enable_private_endpoints; left on otherwise for a first deployment without a VNet-joined runner
  #checkov:skip=CKV_AZURE_101:Same as CKV_AZURE_99, the value follows enable_private_endpoints
  #checkov:skip=CKV_AZURE_100:Customer-managed keys add a Key Vault key dependency; Microsoft-managed encryption is on
  name                               = "cosmos-${local.name}-${local.suffix}"
  location                           = azurerm_resource_group.main.location
  resource_group_name                = azurerm_resource_group.main.name
  offer_type                         = "Standard"
  kind                               = "GlobalDocumentDB"
  local_authentication_disabled      = true
  access_key_metadata_writes_enabled = false
  public_network_access_enabled      = !var.enable_private_endpoints
  tags                               = local.tags

  capabilities {
    name = "EnableServerless"
  }

  consistency_policy {
    consistency_level = "Session"
  }

  geo_location {
    location          = azurerm_resource_group.main.location
    failover_priority = 0
  }

  backup {
    type = "Continuous"
    tier = "Continuous7Days"
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

resource "azurerm_cosmosdb_sql_database" "main" {
  name                = "switchboard"
  resource_group_name = azurerm_resource_group.main.name
  account_name        = azurerm_cosmosdb_account.main.name

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

locals {
  # Generation 0 of each projection container, and the shared checkpoints.
  cosmos_containers = {
    conversations = ["/tenant", "/conversationId"]
    escalations   = ["/tenant"]
    analytics     = ["/tenant"]
    customers     = ["/tenant"]
    checkpoints   = ["/tenant"]
  }
}

resource "azurerm_cosmosdb_sql_container" "main" {
  for_each              = local.cosmos_containers
  name                  = each.key
  resource_group_name   = azurerm_resource_group.main.name
  account_name          = azurerm_cosmosdb_account.main.name
  database_name         = azurerm_cosmosdb_sql_database.main.name
  partition_key_paths   = each.value
  partition_key_kind    = length(each.value) > 1 ? "MultiHash" : "Hash"
  partition_key_version = 2

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

# Key Vault with RBAC. Terraform creates each secret with a placeholder and
# never overwrites it; the operator sets the values (README, "Deploying to
# Azure"), so no secret value is in the Terraform state.
resource "azurerm_key_vault" "main" {
  #checkov:skip=CKV_AZURE_189:Public access is off when enable_private_endpoints; otherwise the operator sets secrets from outside the VNet
  #checkov:skip=CKV2_AZURE_32:The private endpoint is created by network.tf when enable_private_endpoints (a for_each map checkov cannot resolve)
  #checkov:skip=CKV_AZURE_109:The network ACL default follows enable_private_endpoints (Deny with private endpoints)
  name                          = "kv-${substr(local.flat, 0, 14)}-${local.suffix}"
  location                      = azurerm_resource_group.main.location
  resource_group_name           = azurerm_resource_group.main.name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  enable_rbac_authorization     = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 30
  public_network_access_enabled = !var.enable_private_endpoints
  tags                          = local.tags

  network_acls {
    bypass         = "AzureServices"
    default_action = var.enable_private_endpoints ? "Deny" : "Allow"
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

locals {
  # Broker identities: one nkey seed per role (`switchboard streams
  # broker-config` writes <role>.nk), the server configuration naming their
  # public keys, the personal-data master key and the Azure OpenAI key.
  broker_roles = concat(local.agents, ["projector", "gateway", "operator"])
  secrets = merge(
    { for r in local.broker_roles : "nkey-${r}" => "NATS nkey seed of the ${r} role (${r}.nk)" },
    {
      "nats-server-conf"     = "nats-server configuration with a user per role (server.conf)"
      "privacy-key"          = "SWITCHBOARD_PRIVACY_KEY: 64 hex digits"
      "azure-openai-api-key" = "AZURE_OPENAI_API_KEY (placeholder unless enable_multi_language)"
    },
  )
}

resource "azurerm_key_vault_secret" "main" {
  #checkov:skip=CKV_AZURE_41:Keys rotate by operator action (README); an expiry date would stop every app at a fixed time
  for_each     = local.secrets
  name         = each.key
  value        = "unset"
  key_vault_id = azurerm_key_vault.main.id
  content_type = each.value

  lifecycle {
    ignore_changes = [value]
  }

  depends_on = [azurerm_role_assignment.secrets_officer]
}

# Azure Files shares for JetStream, one per NATS node.
resource "azurerm_storage_account" "nats" {
  #checkov:skip=CKV_AZURE_43:The name is "st", up to 16 lowercase letters or digits and 6 hex digits (3-24 characters); checkov cannot evaluate the expression
  #checkov:skip=CKV_AZURE_33:Queue service logging is irrelevant: only Azure Files is used
  #checkov:skip=CKV2_AZURE_1:Customer-managed keys add a Key Vault key dependency; Microsoft-managed encryption is on
  #checkov:skip=CKV2_AZURE_33:A private endpoint is created when enable_private_endpoints
  #checkov:skip=CKV2_AZURE_40:Container Apps mounts Azure Files with the account key only (no Entra ID for SMB mounts)
  #checkov:skip=CKV2_AZURE_41:No SAS tokens are issued; the account key is used by the environment storage only
  #checkov:skip=CKV_AZURE_59:Public access follows enable_private_endpoints
  #checkov:skip=CKV_AZURE_206:Zone-redundant storage is more costly; JetStream replicates itself across nodes when nats_replicas is 3
  name                            = "st${substr(local.flat, 0, 16)}${local.suffix}"
  location                        = azurerm_resource_group.main.location
  resource_group_name             = azurerm_resource_group.main.name
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  allow_nested_items_to_be_public = false
  public_network_access_enabled   = !var.enable_private_endpoints
  tags                            = local.tags

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  share_properties {
    retention_policy {
      days = 7
    }
  }

  sas_policy {
    expiration_period = "01.00:00:00"
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

resource "azurerm_storage_share" "nats" {
  count              = var.nats_replicas
  name               = "nats-${count.index}"
  storage_account_id = azurerm_storage_account.nats.id
  quota              = 100
}
