from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from delivery.models import Message
from sesconsole.models import Account, Membership


class AccountFactory(DjangoModelFactory[Account]):
    class Meta:
        model = Account
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"account-{n}")
    display_name = factory.Faker("company")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Faker("email")
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)


class MessageFactory(DjangoModelFactory[Message]):
    class Meta:
        model = Message

    account = factory.SubFactory(AccountFactory)
    message_id = factory.Sequence(lambda n: f"msg-{n}")
    from_address = "news@mail.example.com"
    sender_domain = "mail.example.com"
    recipient = factory.Sequence(lambda n: f"user{n}@gmail.com")
    recipient_domain = "gmail.com"
    subject = factory.Faker("sentence", nb_words=4)
    status = Message.Status.REQUESTED
