# Inputs. The first seven keep the names of the original deployment.

variable "project_name" {
  description = "Short name used in every resource name (lowercase letters and digits, 3-12)."
  type        = string
  default     = "switchboard"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.project_name))
    error_message = "project_name must be 3-12 lowercase letters or digits, starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(["dev", "test", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, test, staging, prod."
  }
}

variable "location" {
  description = "Azure region."
  type        = string
  default     = "westeurope"

  validation {
    condition     = can(regex("^[a-z]+[a-z0-9]*$", var.location))
    error_message = "location must be an Azure region name such as westeurope (lowercase, no spaces)."
  }
}

variable "monthly_budget" {
  description = "Monthly consumption budget of the resource group, in the billing currency; alerts at 83 % and 93 %."
  type        = number
  default     = 360

  validation {
    condition     = var.monthly_budget >= 10 && var.monthly_budget <= 100000
    error_message = "monthly_budget must be between 10 and 100000."
  }
}

variable "budget_start_date" {
  description = "First day of the budget period (RFC 3339, first of a month)."
  type        = string
  default     = "2026-12-01T00:00:00Z"

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-01T00:00:00Z$", var.budget_start_date))
    error_message = "budget_start_date must be the first of a month, e.g. 2026-12-01T00:00:00Z."
  }
}

variable "budget_contact_emails" {
  description = "Who is mailed when the budget crosses 83 % and 93 %."
  type        = list(string)

  validation {
    condition     = length(var.budget_contact_emails) > 0 && alltrue([for e in var.budget_contact_emails : can(regex("^[^@ ]+@[^@ ]+$", e))])
    error_message = "budget_contact_emails needs at least one e-mail address."
  }
}

variable "deploy_containers" {
  description = "Create the container apps. First apply with false (registry and base infrastructure), push the image, then apply with true."
  type        = bool
  default     = false
}

variable "enable_multi_language" {
  description = "Run the model-backed agents (remote_agents) on Azure OpenAI, which answers in the customer's language; needs azure_openai_endpoint and the azure-openai-api-key secret."
  type        = bool
  default     = false
}

variable "enable_private_endpoints" {
  description = "Reach Key Vault, Cosmos DB, the registry and the storage account only through private endpoints in the VNet (public access off; the registry becomes Premium)."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of the switchboard image in the registry (the workflow passes the commit)."
  type        = string
  default     = "latest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid container image tag."
  }
}

variable "nats_replicas" {
  description = "NATS servers: 1, or 3 for a JetStream cluster (streams then use 3 replicas)."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 3], var.nats_replicas)
    error_message = "nats_replicas must be 1 or 3."
  }
}

variable "agent_max_replicas" {
  description = "Most replicas of each agent app."
  type        = number
  default     = 5

  validation {
    condition     = var.agent_max_replicas >= 1 && var.agent_max_replicas <= 30
    error_message = "agent_max_replicas must be between 1 and 30."
  }
}

variable "lag_threshold" {
  description = "Pending messages per replica on an agent's consumer before KEDA adds a replica."
  type        = number
  default     = 20

  validation {
    condition     = var.lag_threshold >= 1
    error_message = "lag_threshold must be at least 1."
  }
}

variable "business_hours" {
  description = "When each agent keeps one replica (KEDA cron rule: cron expressions and an IANA time zone); outside these hours agents run only while their consumer has pending messages."
  type = object({
    timezone = string
    start    = string
    end      = string
  })
  default = {
    timezone = "Europe/Amsterdam"
    start    = "0 7 * * 1-5"
    end      = "0 19 * * 1-5"
  }

  validation {
    condition     = length(split(" ", var.business_hours.start)) == 5 && length(split(" ", var.business_hours.end)) == 5
    error_message = "business_hours.start and .end must be five-field cron expressions."
  }
}

variable "gateway_min_replicas" {
  description = "Fewest gateway replicas; 0 lets it scale to zero off-hours (the first request then waits for a start)."
  type        = number
  default     = 1

  validation {
    condition     = var.gateway_min_replicas >= 0 && var.gateway_min_replicas <= 10
    error_message = "gateway_min_replicas must be between 0 and 10."
  }
}

variable "remote_agents" {
  description = "Agents that call Azure OpenAI when enable_multi_language is true (SWITCHBOARD_REMOTE_AGENTS)."
  type        = list(string)
  default     = ["intent", "response"]

  validation {
    condition     = alltrue([for a in var.remote_agents : contains(["critic", "intent", "knowledge", "response", "escalation"], a)])
    error_message = "remote_agents may name only critic, intent, knowledge, response, escalation."
  }
}

variable "azure_openai_endpoint" {
  description = "Azure OpenAI endpoint (https://NAME.openai.azure.com) when enable_multi_language is true."
  type        = string
  default     = ""

  validation {
    condition     = var.azure_openai_endpoint == "" || can(regex("^https://", var.azure_openai_endpoint))
    error_message = "azure_openai_endpoint must be empty or an https:// URL."
  }
}

variable "azure_openai_deployment" {
  description = "Azure OpenAI deployment name."
  type        = string
  default     = "gpt-4o-mini"
}

variable "vnet_address_space" {
  description = "Address space of the virtual network."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vnet_address_space, 0))
    error_message = "vnet_address_space must be a CIDR block."
  }
}

variable "log_retention_days" {
  description = "Log Analytics retention."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "otel_collector_image" {
  description = "OpenTelemetry Collector (contrib) image of the metrics sidecar that scrapes /metrics into Application Insights; mirror it into the registry to pull through the identity."
  type        = string
  default     = "otel/opentelemetry-collector-contrib:0.116.0"
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
