"""`backup.velero`: Velero Schedules in the stack that owns the cluster, checked config
(tests/unit/test_backup_velero.py: the install, bucket and identity)."""

import pytest

from foundation.config import ConfigError, load_stack_config

pytestmark = pytest.mark.unit

SCHEDULE = "kubernetes:velero.io/v1:Schedule"


def test_no_schedule_unless_enabled(stacks):
    stacks.write("plain", {**stacks.shipped("local")})
    assert stacks.plan("plain").by_type(SCHEDULE) == []


def test_enabled_on_a_cluster_owner_creates_the_schedules(stacks):
    stacks.write("backed-up", {**stacks.shipped("local"), "backup": {"velero": {
        "enabled": True, "schedule": "@every 6h", "ttl": "168h", "storageLocation": "minio",
        "volumeBackup": "snapshot", "excludedNamespaces": ["kube-system", "scratch"]}}})
    found = {s.inputs["metadata"]["name"]: s for s in stacks.plan("backed-up").by_type(SCHEDULE)}
    schedule = found["acme-marketing-dev-postgres"]
    meta, spec = schedule.inputs["metadata"], schedule.inputs["spec"]
    assert meta["namespace"] == "velero"
    assert meta["labels"]["dataplatform.io/domain"] == "marketing"
    assert spec["schedule"] == "@every 6h"
    assert spec["useOwnerReferencesInBackup"] is False  # deleting the stack keeps backups
    assert spec["template"] == {
        "includedNamespaces": ["*"], "excludedNamespaces": ["kube-system", "scratch", "velero"],
        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}},
        "defaultVolumesToFsBackup": False, "snapshotVolumes": True, "ttl": "168h",
        "storageLocation": "minio"}


def keys_of(exc: ConfigError) -> list[str]:
    return [p.key for p in exc.problems]


def test_a_domain_on_a_shared_cluster_may_not_enable_it(stacks):
    cfg = {**stacks.shipped("gcp-marketing"), "backup": {"velero": {"enabled": True}}}
    stacks.write("shared", cfg)
    with pytest.raises(ConfigError) as exc:
        load_stack_config("shared", stacks.path)
    assert keys_of(exc.value) == ["dataplatform:backup.velero.enabled"]
    assert "platform stack" in str(exc.value)


@pytest.mark.parametrize(("settings", "key"), [
    ({"schedule": "every night"}, "dataplatform:backup.velero.schedule"),
    ({"schedule": "0 2 * *"}, "dataplatform:backup.velero.schedule"),
    ({"ttl": "30d"}, "dataplatform:backup.velero.ttl"),
    ({"volumeBackup": "restic"}, "dataplatform:backup.velero.volumeBackup"),
    ({"namespace": "Velero"}, "dataplatform:backup.velero.namespace"),
    ({"enabeld": True}, "dataplatform:backup.velero.enabeld"),
])
def test_bad_settings_name_the_key(stacks, settings, key):
    stacks.write("bad", {**stacks.shipped("local"), "backup": {"velero": settings}})
    with pytest.raises(ConfigError) as exc:
        load_stack_config("bad", stacks.path)
    assert keys_of(exc.value) == [key]
