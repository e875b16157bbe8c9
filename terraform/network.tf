# The virtual network: one subnet delegated to the Container Apps
# environment (workload profiles need a /27 or larger) and one for the
# private endpoints.

resource "azurerm_virtual_network" "main" {
  name                = "vnet-${local.name}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  address_space       = [var.vnet_address_space]
  tags                = local.tags

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}

resource "azurerm_subnet" "apps" {
  name                 = "snet-apps"
  resource_group_name  = azurerm_resource_group.main.name
  virtual_network_name = azurerm_virtual_network.main.name
  address_prefixes     = [cidrsubnet(var.vnet_address_space, 7, 0)]

  delegation {
    name = "container-apps"
    service_delegation {
      name    = "Microsoft.App/environments"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

resource "azurerm_subnet" "endpoints" {
  name                              = "snet-endpoints"
  resource_group_name               = azurerm_resource_group.main.name
  virtual_network_name              = azurerm_virtual_network.main.name
  address_prefixes                  = [cidrsubnet(var.vnet_address_space, 8, 2)]
  private_endpoint_network_policies = "Enabled"
}

resource "azurerm_network_security_group" "apps" {
  name                = "nsg-${local.name}-apps"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_subnet_network_security_group_association" "apps" {
  subnet_id                 = azurerm_subnet.apps.id
  network_security_group_id = azurerm_network_security_group.apps.id
}

resource "azurerm_network_security_group" "endpoints" {
  name                = "nsg-${local.name}-endpoints"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_subnet_network_security_group_association" "endpoints" {
  subnet_id                 = azurerm_subnet.endpoints.id
  network_security_group_id = azurerm_network_security_group.endpoints.id
}

# Private endpoints and their DNS zones, when enable_private_endpoints.
locals {
  private_endpoints = var.enable_private_endpoints ? {
    vault    = { id = azurerm_key_vault.main.id, subresource = "vault", zone = "privatelink.vaultcore.azure.net" }
    cosmos   = { id = azurerm_cosmosdb_account.main.id, subresource = "Sql", zone = "privatelink.documents.azure.com" }
    registry = { id = azurerm_container_registry.main.id, subresource = "registry", zone = "privatelink.azurecr.io" }
    files    = { id = azurerm_storage_account.nats.id, subresource = "file", zone = "privatelink.file.core.windows.net" }
  } : {}
}

resource "azurerm_private_dns_zone" "main" {
  for_each            = local.private_endpoints
  name                = each.value.zone
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "main" {
  for_each              = local.private_endpoints
  name                  = "link-${each.key}"
  resource_group_name   = azurerm_resource_group.main.name
  private_dns_zone_name = azurerm_private_dns_zone.main[each.key].name
  virtual_network_id    = azurerm_virtual_network.main.id
  tags                  = local.tags
}

resource "azurerm_private_endpoint" "main" {
  for_each            = local.private_endpoints
  name                = "pe-${local.name}-${each.key}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  subnet_id           = azurerm_subnet.endpoints.id
  tags                = local.tags

  private_service_connection {
    name                           = "psc-${each.key}"
    private_connection_resource_id = each.value.id
    subresource_names              = [each.value.subresource]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "default"
    private_dns_zone_ids = [azurerm_private_dns_zone.main[each.key].id]
  }

  timeouts {
    create = local.timeout
    delete = local.timeout
  }
}
