from typing import Any

from django import forms

from clinic.models import Role
from clinic.validators import validate_clean_identifier


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False, validators=[validate_clean_identifier])
    last_name = forms.CharField(max_length=150, required=False, validators=[validate_clean_identifier])
    email = forms.EmailField(required=False)
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(required=False, initial=True, label="Account active")

    def __init__(self, *args: Any, editing: bool = False, own_account: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if own_account:
            # Separation of duties (issue 12 item 1): the service refuses it too.
            self.fields["roles"].disabled = True
            self.fields["roles"].help_text = "You cannot change your own roles: another clinic admin must do it."
        if editing:
            self.fields["username"].disabled = True
        else:
            # No password is typed by the admin: the new user sets one from an e-mailed link.
            self.fields["email"].required = True
            self.fields["email"].help_text = "The new user gets a link here to set their own password."
            del self.fields["is_active"]
