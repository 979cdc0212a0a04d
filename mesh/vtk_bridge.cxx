/* vtk_bridge.cxx — VTK 9.1's vtkDiscreteFlyingEdges3D as a cross-check of the native extractor.
 *
 * Reference: W. Schroeder, R. Maynard, B. Geveci: "Flying Edges: A High-Performance Scalable
 * Isocontouring Algorithm", IEEE LDAV 2015.
 *
 * Passes: bounding box of the label; the mask of the box grown by one voxel (the padding, so
 * border-touching labels close) copied into a uint8 vtkImageData with origin (box - 1) and
 * spacing 1, i.e. in the volume's index space; vtkDiscreteFlyingEdges3D at value 1 (normals,
 * gradients and scalars off); points mapped to world mm by the affine; all triangles flipped
 * if the signed volume is negative (left-handed affines).
 * DFE shares points along each voxel edge within one label (no merge needed: measured closed
 * by sb_mesh_check in the unit tests). Its header warns it may emit zero-area triangles; on a
 * binary mask its vertices are edge midpoints, so we have not seen any.
 * C++ exceptions stop at this boundary (bad_alloc -> SB_ERR_MEMORY, others -> SB_ERR_INTERNAL).
 * VTK reports its own errors through its global output window; this file changes no VTK
 * global state.
 */
#include "sb_mesh.h"

#include <vtkCellArray.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkUnsignedCharArray.h>
#include <vtkPointData.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace {

struct BBox {
    size_t lo[3], hi[3];
};

bool label_bbox(const sb_volume *v, int label, BBox *b) {
    bool any = false;
    const double l = label;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++) {
            size_t n = sb_volume_index(v, 0, j, k);
            for (size_t i = 0; i < v->dim[0]; i++, n++) {
                if (sb_volume_get(v, n) != l) continue;
                const size_t p[3] = {i, j, k};
                for (int a = 0; a < 3; a++) {
                    if (!any || p[a] < b->lo[a]) b->lo[a] = p[a];
                    if (!any || p[a] > b->hi[a]) b->hi[a] = p[a];
                }
                any = true;
            }
        }
    return any;
}

sb_status run(const sb_volume *v, int label, sb_trimesh **out, sb_error *err) {
    BBox b;
    if (!label_bbox(v, label, &b))
        return sb_error_set(err, SB_ERR_LABEL, "label %d is absent from the volume", label);
    int dims[3];
    for (int a = 0; a < 3; a++) dims[a] = (int)(b.hi[a] - b.lo[a] + 3);

    vtkNew<vtkImageData> img;
    img->SetDimensions(dims);
    img->SetOrigin((double)b.lo[0] - 1, (double)b.lo[1] - 1, (double)b.lo[2] - 1);
    img->SetSpacing(1, 1, 1);
    vtkNew<vtkUnsignedCharArray> mask;
    mask->SetName("mask");
    const size_t n = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
    mask->SetNumberOfTuples((vtkIdType)n);
    unsigned char *m = mask->GetPointer(0);
    std::memset(m, 0, n);
    const double l = label;
    for (size_t k = b.lo[2]; k <= b.hi[2]; k++)
        for (size_t j = b.lo[1]; j <= b.hi[1]; j++) {
            size_t src = sb_volume_index(v, b.lo[0], j, k);
            size_t dst =
                1 + (size_t)dims[0] * ((j - b.lo[1] + 1) + (size_t)dims[1] * (k - b.lo[2] + 1));
            for (size_t i = b.lo[0]; i <= b.hi[0]; i++) m[dst++] = sb_volume_get(v, src++) == l;
        }
    img->GetPointData()->SetScalars(mask);

    vtkNew<vtkDiscreteFlyingEdges3D> dfe;
    dfe->SetInputData(img);
    dfe->SetValue(0, 1);
    dfe->ComputeNormalsOff();
    dfe->ComputeGradientsOff();
    dfe->ComputeScalarsOff();
    dfe->Update();
    vtkPolyData *pd = dfe->GetOutput();
    vtkPoints *pts = pd->GetPoints();
    vtkCellArray *polys = pd->GetPolys();
    if (!pts || !polys || polys->GetNumberOfCells() == 0)
        return sb_error_set(err, SB_ERR_INTERNAL,
                            "vtkDiscreteFlyingEdges3D produced no triangles for label %d", label);

    sb_trimesh *mesh = static_cast<sb_trimesh *>(std::calloc(1, sizeof *mesh));
    if (!mesh) throw std::bad_alloc();
    mesh->nverts = (size_t)pts->GetNumberOfPoints();
    mesh->ntris = (size_t)polys->GetNumberOfCells();
    mesh->verts = static_cast<float *>(std::malloc(mesh->nverts * 3 * sizeof(float)));
    mesh->tris = static_cast<uint32_t *>(std::malloc(mesh->ntris * 3 * sizeof(uint32_t)));
    if (!mesh->verts || !mesh->tris || mesh->nverts > UINT32_MAX) {
        sb_trimesh_free(mesh);
        throw std::bad_alloc();
    }
    for (size_t i = 0; i < mesh->nverts; i++) {
        double ijk[3], xyz[3];
        pts->GetPoint((vtkIdType)i, ijk);
        sb_volume_to_world(v, ijk, xyz);
        for (int a = 0; a < 3; a++) mesh->verts[3 * i + a] = (float)xyz[a];
    }
    size_t t = 0;
    vtkIdType npts;
    const vtkIdType *ids;
    double vol = 0;
    for (polys->InitTraversal(); polys->GetNextCell(npts, ids); t++) {
        if (npts != 3) {
            sb_trimesh_free(mesh);
            return sb_error_set(err, SB_ERR_INTERNAL,
                                "vtkDiscreteFlyingEdges3D: cell %zu of label %d has %d points", t,
                                label, (int)npts);
        }
        const float *p[3];
        for (int c = 0; c < 3; c++) {
            mesh->tris[3 * t + c] = (uint32_t)ids[c];
            p[c] = mesh->verts + 3 * (size_t)ids[c];
        }
        vol += (double)p[0][0] * ((double)p[1][1] * p[2][2] - (double)p[1][2] * p[2][1]) -
               (double)p[0][1] * ((double)p[1][0] * p[2][2] - (double)p[1][2] * p[2][0]) +
               (double)p[0][2] * ((double)p[1][0] * p[2][1] - (double)p[1][1] * p[2][0]);
    }
    if (vol < 0)
        for (size_t i = 0; i < mesh->ntris; i++) {
            uint32_t x = mesh->tris[3 * i + 1];
            mesh->tris[3 * i + 1] = mesh->tris[3 * i + 2];
            mesh->tris[3 * i + 2] = x;
        }
    *out = mesh;
    return SB_OK;
}

} // namespace

extern "C" int sb_mesh_have_vtk(void) {
    return 1;
}

extern "C" sb_status sb_mesh_vtk_extract_label(const sb_volume *labels, int label, sb_trimesh **out,
                                               sb_error *err) {
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_vtk_extract_label: out is NULL");
    *out = nullptr;
    if (!labels || !labels->data || !sb_dtype_size(labels->dtype))
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_vtk_extract_label: invalid volume");
    for (int a = 0; a < 3; a++)
        if (labels->dim[a] == 0 || labels->dim[a] > (size_t)(1 << 30))
            return sb_error_set(err, SB_ERR_INPUT, "VTK mesher: axis %d has %zu voxels", a,
                                labels->dim[a]);
    try {
        return run(labels, label, out, err);
    } catch (const std::bad_alloc &) {
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory meshing label %d with VTK", label);
    } catch (...) {
        return sb_error_set(err, SB_ERR_INTERNAL, "VTK failed (C++ exception) on label %d", label);
    }
}
