import factory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pancake.api import signatures
from stores.models import ApiKey, MembershipStatus, Merchant, Role, Store, StoreMembership

_KEY_CACHE: list = []


def rsa_key(bits: int = 2048):
    """Real RSA keys; generation is slow-ish, so a small pool is reused across tests."""
    if bits != 2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    email = factory.Sequence(lambda n: f"merchant{n}@example.com")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}-abc123")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreMembership

    store = factory.SubFactory(StoreFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.OWNER
    status = MembershipStatus.ACTIVE


def make_api_key(
    merchant, key, environment="test", api_version="2026-09-23", name="test key"
) -> ApiKey:
    pem, fingerprint = signatures.parse_public_key(public_pem(key))
    return ApiKey.objects.create(
        merchant=merchant,
        name=name,
        environment=environment,
        api_version=api_version,
        public_key_pem=pem,
        fingerprint=fingerprint,
    )
