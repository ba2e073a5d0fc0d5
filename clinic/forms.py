from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password

from clinic.models import Role, User


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        strip=False,
        help_text=password_validators_help_text_html(),
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Account active")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["username"].disabled = True
            self.fields["password"].help_text = "Leave empty to keep the current password."
        else:
            self.fields["password"].required = True
            del self.fields["is_active"]

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if password:
            # Checked here too, so a weak password is flagged alongside the other field errors.
            validate_password(password, User(username=self.data.get("username", "")))
        return password
