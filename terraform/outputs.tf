output "resource_group_name" {
  description = "The resource group."
  value       = azurerm_resource_group.main.name
}

output "registry_login_server" {
  description = "Push the image here: <login server>/switchboard:<tag>."
  value       = azurerm_container_registry.main.login_server
}

output "registry_name" {
  description = "Registry name, for az acr login."
  value       = azurerm_container_registry.main.name
}

output "key_vault_name" {
  description = "Key Vault holding the nkey seeds, the NATS configuration and the keys."
  value       = azurerm_key_vault.main.name
}

output "key_vault_secret_names" {
  description = "Secrets the operator sets before deploy_containers = true."
  value       = sort(keys(local.secrets))
}

output "cosmos_endpoint" {
  description = "Cosmos DB endpoint (COSMOS_ENDPOINT of the projector and the gateway)."
  value       = azurerm_cosmosdb_account.main.endpoint
}

output "identity_client_id" {
  description = "Client id of the apps' user-assigned identity."
  value       = azurerm_user_assigned_identity.apps.client_id
}

output "container_app_environment" {
  description = "The Container Apps environment."
  value       = azurerm_container_app_environment.main.name
}

output "gateway_url" {
  description = "The gateway's URL, once deploy_containers is true."
  value       = var.deploy_containers ? "https://${azurerm_container_app.role["gateway"].ingress[0].fqdn}" : null
}

output "app_names" {
  description = "Container apps to roll on a new image."
  value       = sort(keys(azurerm_container_app.role))
}

output "streams_job_name" {
  description = "Job that runs switchboard streams apply."
  value       = var.deploy_containers ? azurerm_container_app_job.streams[0].name : null
}

output "application_insights_connection_string" {
  description = "Application Insights connection string."
  value       = azurerm_application_insights.main.connection_string
  sensitive   = true
}

output "workbook_id" {
  description = "The Azure Monitor workbook with the Grafana dashboard's figures."
  value       = azurerm_application_insights_workbook.main.id
}
