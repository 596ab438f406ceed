"""The benchmark workloads written with JAX (jit-compiled training steps), for comparison."""

import numpy as np

#: the workloads written here; the others are skipped for JAX
WORKLOADS = ("M", "matmul")


def build(name, data):
    import jax
    import jax.numpy as jnp
    if name == "M":
        sizes = [(784, 512), (512, 512), (512, 10)]
        rng = np.random.default_rng(0)
        params = []
        for fan_in, fan_out in sizes:  # PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            bound = 1 / np.sqrt(fan_in)
            params.append((jnp.asarray(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)),
                           jnp.asarray(rng.uniform(-bound, bound, fan_out).astype(np.float32))))
        x, y = jnp.asarray(data["x"]), jnp.asarray(data["y"])

        def loss_fn(params):
            h = x
            for k, (w, b) in enumerate(params):
                h = h @ w + b
                if k < len(params) - 1:
                    h = jax.nn.relu(h)
            log_p = jax.nn.log_softmax(h)
            return -jnp.take_along_axis(log_p, y[:, None], axis=1).mean()

        @jax.jit
        def update(params, buffers, first):
            loss, grads = jax.value_and_grad(loss_fn)(params)
            buffers = jax.tree.map(lambda buf, g: jnp.where(first, g, 0.9 * buf + g), buffers, grads)
            params = jax.tree.map(lambda p, buf: p - 0.01 * buf, params, buffers)
            return params, buffers, loss

        state = {"params": params, "buffers": jax.tree.map(jnp.zeros_like, params), "first": True}

        def step():
            state["params"], state["buffers"], loss = update(state["params"], state["buffers"], state["first"])
            state["first"] = False
            return float(loss.block_until_ready())
        return step
    if name == "matmul":
        a, b, g = (jnp.asarray(data[k]) for k in ("a", "b", "g"))
        vjp = jax.jit(lambda a, b, g: jax.vjp(jnp.matmul, a, b)[1](g))

        def step():
            grads = vjp(a, b, g)
            jax.block_until_ready(grads)
        return step
    raise KeyError(f"unknown workload {name!r}")
