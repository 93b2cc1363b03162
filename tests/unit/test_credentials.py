"""The one credential detector: every spelling of a credential is found, references are not.

The loader refuses what it finds anywhere in a stack file, and the secrets test runs it
over every planned resource (tests/unit/test_secrets.py).
"""

from __future__ import annotations

import pytest

from foundation import credentials
from foundation.config.loader import ConfigError, load_stack_config

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("key", [
    "password", "adminPassword", "ADMIN_PASSWORD", "admin-password", "admin.password",
    "Password", "passwd", "pass", "rootPwd", "secret", "clientSecret", "jwtSecret",
    "secretKey", "webserverSecretKey", "apiSecretKey", "AIRFLOW__CORE__FERNET_KEY",
    "fernetKey", "apiKey", "api_key", "accessKey", "secretAccessKey", "token", "authToken",
    "GITHUB_TOKEN", "privateKey", "signingKey", "encryptionKey", "credentials", "dsn",
    "connectionString", "webhookUrl", "licenseKey", "salt", "passphrase"])
def test_credential_keys_are_found_in_every_spelling(key):
    assert credentials.credential_key(key), key
    assert [f.path for f in credentials.find({"a": {key: "hunter2"}})] == [("a", key)]


@pytest.mark.parametrize("key", [
    "existingSecret", "existingSecretPasswordKey", "passwordSecretKey", "passwordKey",
    "userSecretKey", "tokenSecretName", "secretName", "secretRef", "passwordFile",
    "passwordSecret", "credentialsSecret", "tokenTtl", "secretLength", "key", "secrets",
    "imagePullSecrets",
    "accessKeyId", "clientId", "username", "kubeconfig", "tokenPath", "secretKeyRef"])
def test_references_and_neighbours_are_not_credentials(key):
    assert not credentials.credential_key(key), key
    assert credentials.find({key: "my-secret"}) == []


@pytest.mark.parametrize("value", ["", "  ", True, False, None, "${DB_PASSWORD}",
                                   "$(DB_PASSWORD)", "{{ .Values.pw }}", "<generated>"])
def test_empty_or_placeholder_values_hold_no_credential(value):
    assert credentials.find({"password": value}) == []


def test_numbers_and_list_items_under_a_credential_key_are_found():
    found = credentials.find({"password": 12345678, "tokens": ["a"], "apiKeys": ["k1", "k2"]})
    assert [f.path for f in found] == [("password",), ("tokens", 0), ("apiKeys", 0),
                                       ("apiKeys", 1)]


def test_an_env_entry_is_judged_by_its_name():
    env = {"env": [{"name": "DB_PASSWORD", "value": "hunter2"},
                   {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "x"}}},
                   {"name": "LOG_LEVEL", "value": "info"}]}
    assert [(f.path, f.what) for f in credentials.find(env)] == [
        (("env", 0, "value"), "a credential in plain text (name 'DB_PASSWORD')")]


@pytest.mark.parametrize("value,what", [
    ("postgresql://app:hunter2@db:5432/app", "a URL with a user and password"),
    ("redis://:hunter2@redis:6379/0", "a URL with a user and password"),
    ("Server=db;User Id=app;Password=hunter2;", "a password or token set inside"),
    ("Driver={x};Server=db;PWD=hunter2", "a password or token set inside"),
    ("https://h/x?token=abcdef", "a password or token set inside"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a private key"),
    ("AKIAIOSFODNN7EXAMPLE", "an AWS access key"),
    ("ghp_" + "a" * 36, "a Git host token"),
    ("glpat-" + "a" * 20, "a Git host token"),
    ("xoxb-1234567890-abc", "a Slack token"),
    ("https://hooks.slack.com/services/T000/B000/XXXX", "a Slack webhook URL"),
    ("AIza" + "b" * 35, "a Google API key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "a JSON web token"),
])
def test_credentials_are_found_by_their_form_under_any_key(value, what):
    found = credentials.find({"anything": {"url": value}})
    assert [f.path for f in found] == [("anything", "url")]
    assert what in found[0].what


@pytest.mark.parametrize("value", [
    "postgresql://app@db:5432/app", "https://github.com/acme/dags.git",
    "git@github.com:acme/dags.git", "ssh://git@github.com/acme/dags.git",
    "postgresql://app:${PASSWORD}@db/app", "password: ${DB_PASSWORD}", "http://db:5432",
    "arn:aws:iam::123456789012:role/x"])
def test_urls_and_texts_without_a_credential_pass(value):
    assert credentials.find({"url": value}) == []


def test_encrypted_values_and_the_mask_are_skipped():
    assert credentials.find({"password": {"secure": "v1:abc"}}) == []
    assert credentials.find({"password": "[secret]"}, ignore=["[secret]"]) == []


def test_kubeconfig_content_is_a_credential_its_path_is_not():
    assert credentials.find({"kubeconfig": "~/.kube/config"}) == []
    found = credentials.find({"kubeconfig": "apiVersion: v1\nusers:\n- user: {token: x}\n"})
    assert found and "kubeconfig" in found[0].what


# --- the loader refuses them anywhere in a stack file -----------------------------------------

def _refused(stacks, config) -> ConfigError:
    stacks.write("cred", config)
    with pytest.raises(ConfigError) as info:
        load_stack_config("cred", stacks.path)
    return info.value


@pytest.mark.parametrize("where,key", [
    ({"apps": {"metabase": {"enabled": True, "values": {"extraEnv": [
        {"name": "MB_DB_PASS", "value": "hunter2"}]}}}},
     "dataplatform:apps.metabase.values.extraEnv.0.value"),
    ({"apps": {"airflow": {"enabled": True, "values": {"config": {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://a:b@h/db"}}}}},
     "dataplatform:apps.airflow.values.config.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"),
    ({"monitoring": {"values": {"grafana": {"adminPassword": "admin"}}}},
     "dataplatform:monitoring.values.grafana.adminPassword"),
    ({"apps": {"extra": [{"name": "superset", "chart": "superset", "version": "0.12.11",
                          "repo": "https://apache.github.io/superset",
                          "values": {"SECRET_KEY": "thisismysecret"}}]}},
     "dataplatform:apps.extra.0.values.SECRET_KEY"),
])
def test_the_loader_refuses_a_credential_in_any_values_section(stacks, where, key):
    cfg = {**stacks.shipped("local"), **where}
    if "monitoring" in where:
        cfg["monitoring"] = {**cfg.get("monitoring", {}), **where["monitoring"]}
    err = _refused(stacks, cfg)
    problems = {p.key: p.message for p in err.problems}
    assert key in problems, err
    assert "existingSecret" in problems[key] and "config secret" in problems[key]


@pytest.mark.parametrize("provider_key,value", [
    ("aws:secretKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws:accessKey", "AKIAIOSFODNN7EXAMPLE"), ("aws:token", "FwoGZXIvYXdzE"),
    ("gcp:credentials", '{"type": "service_account", "private_key": "x"}'),
    ("gcp:accessToken", "ya29.a0AfH6"),
    ("kubernetes:kubeconfig", "apiVersion: v1\nclusters: []\n")])
def test_provider_keys_with_credentials_must_be_encrypted(stacks, provider_key, value):
    text = stacks.path / "Pulumi.cred.yaml"
    stacks.write("cred", stacks.shipped("local"))
    with text.open("a") as f:
        f.write(f"  {provider_key}: {value!r}\n".replace("\n'", "'") if "\n" not in value
                else f"  {provider_key}: |\n" + "".join(f"    {line}\n"
                                                         for line in value.splitlines()))
    with pytest.raises(ConfigError) as info:
        load_stack_config("cred", stacks.path)
    [problem] = info.value.problems
    assert problem.key == provider_key
    assert f"pulumi config set --secret {provider_key} <value>" in problem.message
    assert value.splitlines()[0] not in str(info.value)


def test_a_secret_key_given_in_clear_keeps_its_own_message(stacks):
    """warehouse.password takes a config secret: the model's message (with the exact
    command) is given once, not the generic one as well."""
    cfg = {**stacks.shipped("local"), "warehouse": {
        "type": "postgres", "host": "db", "database": "dw", "user": "u", "password": "hunter2"}}
    err = _refused(stacks, cfg)
    keys = [p.key for p in err.problems]
    assert keys.count("dataplatform:warehouse.password") == 1, err
    assert "pulumi config set --secret --path" in str(err)


def test_mappings_that_point_into_a_secret_are_references():
    """Airflow's `secret: [{envName, secretName, secretKey}]`, DataHub's `{secret, key}`."""
    values = {"secret": [{"envName": "X", "secretName": "s", "secretKey": "token"}],
              "envFromSecrets": {"TOKEN": {"secret": "s", "key": "token"}},
              "password": {"secretRef": "s", "secretKey": "password"}}
    assert credentials.find(values) == []
    assert credentials.find({"secret": {"secret": "s", "password": "p"}}) != []


def test_a_dsn_under_a_credential_name_is_judged_by_its_form():
    env = [{"name": "TARGET_DSN", "value": "postgres://$(U):$(P)@db/x"},
           {"name": "TARGET_DSN", "value": "postgres://u:hunter2@db/x"}]
    assert [f.path for f in credentials.find({"env": env})] == [("env", 1, "value")]


@pytest.mark.parametrize("key", [
    "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44",  # full-width "password"
    "pass\u200bword", "PASSWORD\u00ad", "\ufb01leToken"])
def test_compatibility_and_invisible_characters_do_not_hide_a_key(key):
    assert credentials.credential_key(key), key


def test_a_credential_used_as_a_key_is_found():
    found = credentials.find({"hosts": {"postgresql://app:hunter2@db/app": True}})
    assert [(f.path, f.what) for f in found] == [
        (("hosts",), "a URL with a user and password, as one of the keys here")]
