/* lwIP's OS abstraction types over the Tern kernel (implemented in
 * components/net/sys_arch.cpp with the public API of rtos/include/rtos/).
 * Each object is a pointer to a heap-allocated kernel object; NULL is
 * "invalid". */
#ifndef TERN_LWIP_ARCH_SYS_ARCH_H
#define TERN_LWIP_ARCH_SYS_ARCH_H

struct tern_sem;
struct tern_mutex;
struct tern_mbox;
struct tern_thread;

typedef struct tern_sem* sys_sem_t;
typedef struct tern_mutex* sys_mutex_t;
typedef struct tern_mbox* sys_mbox_t;
typedef struct tern_thread* sys_thread_t;
typedef unsigned long sys_prot_t;

#define SYS_MBOX_NULL NULL
#define SYS_SEM_NULL NULL

#define sys_sem_valid(s) (*(s) != NULL)
#define sys_sem_set_invalid(s) (*(s) = NULL)
#define sys_mutex_valid(m) (*(m) != NULL)
#define sys_mutex_set_invalid(m) (*(m) = NULL)
#define sys_mbox_valid(m) (*(m) != NULL)
#define sys_mbox_set_invalid(m) (*(m) = NULL)

#endif
