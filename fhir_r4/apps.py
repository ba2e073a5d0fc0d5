from django.apps import AppConfig


class FhirConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fhir_r4"
    label = "fhir_r4"
    verbose_name = "FHIR R4 exchange"
