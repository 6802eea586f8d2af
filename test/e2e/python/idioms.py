"""The official Python client (python3-kubernetes) with its own idioms against a clusterip API
server: typed create/read/list/patch (strategic merge, JSON merge, JSON patch), the scale
subresource, watches with label and field selectors, EndpointSlices, and the ApiException of a
404, a 409 and a 422. Prints one JSON object per check: {"check": name, ...what it saw}.

usage: idioms.py KUBECONFIG NAMESPACE
"""
import json
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
ns = sys.argv[2]
core = client.CoreV1Api()
apps = client.AppsV1Api()
disc = client.DiscoveryV1Api()


def report(check, **seen):
    print(json.dumps({"check": check, **seen}, sort_keys=True), flush=True)


def failure(e):
    body = json.loads(e.body)
    return {"status": e.status, "reason": body.get("reason"), "message": body.get("message"),
            "causes": [c.get("field") for c in (body.get("details") or {}).get("causes") or []]}


# Typed create, read, list with a label selector.
cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg", labels={"app": "py"}), data={"a": "1"})
created = core.create_namespaced_config_map(ns, cm)
read = core.read_namespaced_config_map("cfg", ns)
listed = core.list_namespaced_config_map(ns, label_selector="app=py")
report("typed", created=created.metadata.name, uid=bool(created.metadata.uid), data=read.data,
       listed=[c.metadata.name for c in listed.items], rv=bool(listed.metadata.resource_version))

# Patches: a dict body is a strategic merge patch, a list a JSON patch; a JSON merge patch through call_api.
core.patch_namespaced_config_map("cfg", ns, {"data": {"b": "2"}})
core.patch_namespaced_config_map("cfg", ns, [{"op": "replace", "path": "/data/a", "value": "one"}])
merged = core.api_client.call_api(
    "/api/v1/namespaces/{namespace}/configmaps/{name}", "PATCH", {"namespace": ns, "name": "cfg"}, [],
    {"Content-Type": "application/merge-patch+json", "Accept": "application/json"},
    body={"data": {"b": None, "c": "3"}}, response_type="V1ConfigMap", auth_settings=["BearerToken"],
    _return_http_data_only=True)
report("patch", data=merged.data)

# A Deployment: strategic merge of its containers by name, then the scale subresource.
dep = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="web"),
    spec=client.V1DeploymentSpec(
        replicas=1, selector=client.V1LabelSelector(match_labels={"app": "web"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "web"}),
            spec=client.V1PodSpec(containers=[
                client.V1Container(name="web", image="nginx:1.26", ports=[client.V1ContainerPort(container_port=80)]),
                client.V1Container(name="side", image="busybox"),
            ]))))
apps.create_namespaced_deployment(ns, dep)
patched = apps.patch_namespaced_deployment("web", ns, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
scale = apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
scale_read = apps.read_namespaced_deployment_scale("web", ns)
scale_read.spec.replicas = 2
replaced = apps.replace_namespaced_deployment_scale("web", ns, scale_read)
report("deployment", containers=[[c.name, c.image] for c in patched.spec.template.spec.containers],
       ports=patched.spec.template.spec.containers[0].ports[0].container_port,
       scale_kind=scale.kind, patched_replicas=scale.spec.replicas, replaced_replicas=replaced.spec.replicas,
       stored_replicas=apps.read_namespaced_deployment("web", ns).spec.replicas)

# Watches with a label selector and a field selector: only the matching Pod's events arrive.
events = []
ready = threading.Event()


def watch_pods():
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_pod, ns, label_selector="app=watched",
                       field_selector="metadata.name=p2", timeout_seconds=10, _request_timeout=15):
        events.append([ev["type"], ev["object"].metadata.name])
        if ev["type"] == "DELETED":
            w.stop()


t = threading.Thread(target=watch_pods)
t.start()
pod = lambda name, labels: client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels),
                                        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))
import time
time.sleep(0.5)
core.create_namespaced_pod(ns, pod("p1", {"app": "watched"}))
core.create_namespaced_pod(ns, pod("p2", {"app": "watched"}))
core.create_namespaced_pod(ns, pod("p3", {"app": "other"}))
core.patch_namespaced_pod("p2", ns, {"metadata": {"annotations": {"touched": "yes"}}})
core.delete_namespaced_pod("p2", ns, grace_period_seconds=0)
t.join(20)
report("watch", events=events)

# EndpointSlices: one made by hand, and the one the controller keeps for a Service.
es = client.V1EndpointSlice(
    metadata=client.V1ObjectMeta(name="manual", labels={"kubernetes.io/service-name": "manual"}),
    address_type="IPv4",
    endpoints=[client.V1Endpoint(addresses=["10.244.0.9"], conditions=client.V1EndpointConditions(ready=True))],
    ports=[client.DiscoveryV1EndpointPort(name="http", port=8080, protocol="TCP")])
disc.create_namespaced_endpoint_slice(ns, es)
core.create_namespaced_service(ns, client.V1Service(
    metadata=client.V1ObjectMeta(name="web"),
    spec=client.V1ServiceSpec(selector={"app": "web"}, ports=[client.V1ServicePort(port=80, target_port=80)])))
slices = []
for _ in range(50):
    slices = disc.list_namespaced_endpoint_slice(ns, label_selector="kubernetes.io/service-name=web").items
    if slices:
        break
    time.sleep(0.1)
manual = disc.read_namespaced_endpoint_slice("manual", ns)
report("endpointslices", manual=[manual.address_type, manual.endpoints[0].addresses, manual.ports[0].port],
       service=[s.metadata.owner_references[0].name for s in slices])

# Errors: 404, 409 and 422 as ApiException with the Status in its body.
try:
    core.read_namespaced_config_map("nope", ns)
except ApiException as e:
    report("404", **failure(e))
try:
    core.create_namespaced_config_map(ns, cm)
except ApiException as e:
    report("409", **failure(e))
try:
    core.create_namespaced_service(ns, client.V1Service(
        metadata=client.V1ObjectMeta(name="bad"), spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=70000)])))
except ApiException as e:
    report("422", **failure(e))
